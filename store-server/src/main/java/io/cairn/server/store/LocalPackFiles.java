package io.cairn.server.store;

import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.server.objects.ObjectNotFoundException;
import io.cairn.server.objects.ObjectRange;
import io.cairn.server.objects.ObjectStore;
import java.io.ByteArrayInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code packs/} directory of an embedded store, seen as an {@link ObjectStore} so the bucket's
 * {@link io.cairn.server.pack.PackWriter} and {@link io.cairn.server.pack.PackReader} work on it
 * unchanged: a pack key {@code packs/<sha256>} is the file {@code DATA/packs/<sha256>}. A put is
 * atomic and durable when it returns (temporary file, fsync, rename, fsync of the directory), so a
 * crash leaves a whole pack or none; leftover temporary files are removed on open.
 */
final class LocalPackFiles implements ObjectStore {
  private static final String TMP = ".tmp-";
  private final Path root;
  private final Path dir;
  /** Runs before each pack is written: refuses it when the disk is below the store's reserve. */
  private final Runnable checkWritable;

  /** {@code root} is the data directory; packs live in {@code root/packs}. */
  LocalPackFiles(Path root, Runnable checkWritable) {
    this.root = root;
    this.checkWritable = checkWritable;
    this.dir = root.resolve("packs");
    try {
      Files.createDirectories(dir);
      try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, TMP + "*")) {
        for (Path p : s) {
          Files.deleteIfExists(p); // a pack a crash cut short; nothing names it
        }
      }
    } catch (IOException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "cannot open pack directory " + dir + ": " + e, e);
    }
  }

  Path dir() {
    return dir;
  }

  private Path file(String key) {
    if (!key.startsWith("packs/") || key.indexOf('/', 6) >= 0 || key.length() < 8 || key.contains("..")) {
      throw new IllegalArgumentException("not a pack key: " + key);
    }
    return root.resolve(key);
  }

  @Override
  public PutResult putIfAbsent(String key, byte[] data, int off, int len) {
    throw new UnsupportedOperationException("packs are content-addressed: put");
  }

  @Override
  public void put(String key, byte[] data, int off, int len) {
    Path target = file(key);
    // The reserve (--min-free) holds for packs too: a pack that filled the disk would leave RocksDB
    // no room for the entries that name it, nor for the log of the commit after.
    checkWritable.run();
    Path tmp = dir.resolve(TMP + target.getFileName() + "-" + Thread.currentThread().getId());
    try {
      // RandomAccessFile, not a FileChannel over a heap buffer: the channel would copy it through a
      // temporary direct buffer of the pack's size, cached per thread, and a server's direct memory
      // (1/16 of --memory) ran out after a few collections on different worker threads.
      try (RandomAccessFile f = new RandomAccessFile(tmp.toFile(), "rw")) {
        f.setLength(0);
        f.write(data, off, len);
        // Without it the rename could reach the disk before the bytes: a crash would leave a
        // named pack of zeros that index entries (written next) point into.
        f.getChannel().force(true);
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      syncDir(); // the rename itself must be durable before index entries name the pack
    } catch (IOException e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // removed on the next open
      }
      boolean full = String.valueOf(e.getMessage()).contains("No space left");
      throw new StoreException(full ? ErrorCode.STORAGE_FULL : ErrorCode.INTERNAL, "cannot write pack " + key + ": "
          + e.getMessage() + (full ? "; free space, then retry" : ""), e);
    }
  }

  private void syncDir() throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  @Override
  public InputStream get(String key) {
    try {
      return Files.newInputStream(file(key));
    } catch (NoSuchFileException e) {
      throw new ObjectNotFoundException(key);
    } catch (IOException e) {
      throw storageError(key, e);
    }
  }

  @Override
  public RangeStream get(String key, ObjectRange range) {
    try (RandomAccessFile f = open(key)) {
      long size = f.length();
      long start = range.isSuffix() ? Math.max(0, size - range.length()) : range.offset();
      if (start >= size && !(range.isSuffix() && size == 0)) {
        throw new StoreException(ErrorCode.STORE_FORMAT, "pack " + key + " is " + size + " bytes; no byte at " + start);
      }
      byte[] b = readAt(f, start, Math.min(range.length(), size - start));
      return new RangeStream(new ByteArrayInputStream(b), start, b.length, size);
    } catch (IOException e) {
      throw storageError(key, e);
    }
  }

  @Override
  public byte[] read(String key, ObjectRange range) {
    if (range.isSuffix()) {
      return ObjectStore.super.read(key, range);
    }
    try (RandomAccessFile f = open(key)) {
      return readAt(f, range.offset(), Math.min(range.length(), f.length() - range.offset()));
    } catch (IOException e) {
      throw storageError(key, e);
    }
  }

  private RandomAccessFile open(String key) {
    try {
      return new RandomAccessFile(file(key).toFile(), "r");
    } catch (FileNotFoundException e) {
      throw new ObjectNotFoundException(key); // deleted by a repack; the reader looks its blocks up again
    }
  }

  /** Into the heap array directly (no per-thread direct buffer, see put); fewer bytes at the end. */
  private static byte[] readAt(RandomAccessFile f, long pos, long len) throws IOException {
    byte[] out = new byte[(int) Math.max(0, len)];
    f.seek(pos);
    f.readFully(out);
    return out;
  }

  @Override
  public Optional<ObjectInfo> head(String key) {
    try {
      return Optional.of(new ObjectInfo(key, Files.size(file(key)), ""));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw storageError(key, e);
    }
  }

  @Override
  public ListPage list(String prefix, Optional<String> startAfter, int max) {
    List<ObjectInfo> all = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path p : s) {
        String name = p.getFileName().toString();
        if (name.startsWith(TMP)) {
          continue;
        }
        String key = "packs/" + name;
        if (key.startsWith(prefix) && (startAfter.isEmpty() || key.compareTo(startAfter.get()) > 0)) {
          try {
            all.add(new ObjectInfo(key, Files.size(p), ""));
          } catch (NoSuchFileException gone) {
            // deleted by a repack while we listed
          }
        }
      }
    } catch (IOException e) {
      throw storageError(dir.toString(), e);
    }
    all.sort(java.util.Comparator.comparing(ObjectInfo::key));
    boolean truncated = all.size() > max;
    return new ListPage(truncated ? List.copyOf(all.subList(0, max)) : all, truncated);
  }

  @Override
  public void delete(String key) {
    try {
      Files.deleteIfExists(file(key));
    } catch (IOException e) {
      throw storageError(key, e);
    }
  }

  /** Bytes of all packs now. */
  long totalBytes() {
    long[] t = {0};
    forEach("packs/", Optional.empty(), o -> t[0] += o.size());
    return t[0];
  }

  private static StoreException storageError(String what, IOException e) {
    return new StoreException(ErrorCode.INTERNAL, "cannot read pack " + what + ": " + e, e);
  }
}
