package io.cairn.client.cache;

import io.cairn.id.Sha256Id;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiConsumer;

/**
 * The {@code .idx} sidecar of a pack: {@code magic "CPI2" | covered u64 | count u32 | count x
 * (type u8 | id (32) | offset u64 | length u32 | crc32c u32)}. {@code covered} is how much of the
 * pack the entries describe; a reader scans the pack from there. The high bit of {@code type} says
 * that {@code crc32c} is the CRC32C of the record's bytes as the writer had verified them against
 * their id, so a reader in another process checks the CRC32C instead of hashing the bytes again; a
 * record without it (its writer died and a reader wrote the idx) is hashed on its first read.
 * Version 1 ({@code "CPI1"}, the same without the CRC32C) is still read. Written to a temporary name
 * and renamed, so a reader sees a whole idx or none.
 */
final class PackIndexFile {
  static final int MAGIC = 0x43504932; // "CPI2"
  private static final int MAGIC_V1 = 0x43504931; // "CPI1"
  private static final int ENTRY = 1 + Sha256Id.LENGTH + 8 + 4 + 4;
  private static final int ENTRY_V1 = ENTRY - 4;
  private static final int HAS_CRC = 0x80;

  private PackIndexFile() {}

  /** About how many entries the idx files in {@code dir} hold (from their sizes); 0 if unknown. */
  static int estimateEntries(Path dir) {
    long total = 0;
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      for (Path p : (Iterable<Path>) s.filter(f -> f.toString().endsWith(".idx"))::iterator) {
        try {
          total += Files.size(p) / ENTRY;
        } catch (IOException e) {
          // evicted meanwhile
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return (int) Math.min(1 << 28, total);
  }

  static Path of(Pack pack) {
    return pack.path.resolveSibling(pack.name + ".idx");
  }

  static void write(Pack pack, List<Map.Entry<Sha256Id, Pack.Entry>> entries, long covered) throws IOException {
    Path idx = of(pack);
    Path tmp = idx.resolveSibling(idx.getFileName() + "." + ThreadLocalRandom.current().nextInt(1 << 30) + ".tmp");
    try (OutputStream fo = Files.newOutputStream(tmp);
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(fo, 1 << 16))) {
      out.writeInt(MAGIC);
      out.writeLong(covered);
      out.writeInt(entries.size());
      byte[] raw = new byte[Sha256Id.LENGTH];
      for (Map.Entry<Sha256Id, Pack.Entry> e : entries) {
        long crc = pack.verified.crc((int) e.getValue().offset());
        out.writeByte(Pack.typeOf(e.getKey()) | (crc >= 0 ? HAS_CRC : 0));
        e.getKey().copyRawTo(raw, 0);
        out.write(raw);
        out.writeLong(e.getValue().offset());
        out.writeInt(e.getValue().length());
        out.writeInt((int) Math.max(0, crc));
      }
    }
    try {
      Files.move(tmp, idx, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, idx, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Loads the idx into {@code sink} and sets the pack's scan position; false when there is no usable idx. */
  static boolean read(Pack pack, BiConsumer<Sha256Id, Pack.Entry> sink) throws IOException {
    byte[] all;
    try {
      all = Files.readAllBytes(of(pack));
    } catch (NoSuchFileException e) {
      return false;
    }
    ByteBuffer b = ByteBuffer.wrap(all);
    int magic = all.length < 16 ? 0 : b.getInt();
    if (magic != MAGIC && magic != MAGIC_V1) {
      return false;
    }
    int entry = magic == MAGIC ? ENTRY : ENTRY_V1;
    long covered = b.getLong();
    int count = b.getInt();
    if (count < 0 || b.remaining() != (long) count * entry) {
      return false; // damaged: the caller scans the pack instead
    }
    byte[] raw = new byte[Sha256Id.LENGTH];
    for (int i = 0; i < count; i++) {
      int type = b.get() & 0xff;
      b.get(raw);
      long offset = b.getLong();
      int len = b.getInt();
      int crc = magic == MAGIC ? b.getInt() : 0;
      if (offset < Pack.HEADER + Pack.RECORD_HEADER || len <= 0 || offset > Integer.MAX_VALUE - len) {
        continue; // a damaged entry: that record is a miss, the others are fine
      }
      if ((type & HAS_CRC) != 0) {
        pack.verified.put((int) offset, crc);
      }
      sink.accept(Pack.idOf((byte) (type & ~HAS_CRC), raw, 0), new Pack.Entry(pack, offset, len));
    }
    pack.scanned = Math.max(pack.scanned, covered);
    return true;
  }
}
