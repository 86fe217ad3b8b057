package io.cairn.server.objects;

import io.cairn.error.ErrorCode;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Objects in a sorted concurrent map, with the S3 semantics the rest of the package relies on:
 * create-only puts are atomic, listings are in unsigned-byte key order and see every completed
 * write. For fast unit tests and as the reference the S3 contract test holds Ceph to.
 */
public final class MemoryObjectStore implements ObjectStore {
  // UTF-8 byte order equals code point order; String.compareTo is UTF-16 order, which differs only
  // for supplementary characters. Keys here are ASCII, but keep S3's order exactly anyway.
  private final ConcurrentSkipListMap<String, byte[]> objects = new ConcurrentSkipListMap<>(
      (a, b) -> Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));

  @Override
  public PutResult putIfAbsent(String key, byte[] data, int off, int len) {
    return objects.putIfAbsent(key, Arrays.copyOfRange(data, off, off + len)) == null
        ? PutResult.CREATED : PutResult.EXISTS;
  }

  @Override
  public void put(String key, byte[] data, int off, int len) {
    objects.put(key, Arrays.copyOfRange(data, off, off + len));
  }

  @Override
  public InputStream get(String key) {
    return new ByteArrayInputStream(bytes(key));
  }

  @Override
  public RangeStream get(String key, ObjectRange range) {
    byte[] b = bytes(key);
    long from = range.isSuffix() ? Math.max(0, b.length - range.length()) : range.offset();
    if (from >= b.length && !(range.isSuffix() && b.length == 0)) {
      throw new ObjectStoreException(ErrorCode.RANGE_NOT_SATISFIABLE, key,
          "range " + range + " starts at or past the end (" + b.length + " bytes)", null);
    }
    int n = (int) Math.min(range.length(), b.length - from);
    return new RangeStream(new ByteArrayInputStream(b, (int) from, n), from, n, b.length);
  }

  @Override
  public Optional<ObjectInfo> head(String key) {
    byte[] b = objects.get(key);
    return b == null ? Optional.empty() : Optional.of(info(key, b));
  }

  @Override
  public ListPage list(String prefix, Optional<String> startAfter, int max) {
    Map<String, byte[]> tail = startAfter.isPresent() && startAfter.get().compareTo(prefix) > 0
        ? objects.tailMap(startAfter.get(), false) : objects.tailMap(prefix, true);
    List<ObjectInfo> out = new ArrayList<>();
    for (Map.Entry<String, byte[]> e : tail.entrySet()) {
      if (!e.getKey().startsWith(prefix)) {
        break;
      }
      if (out.size() == max) {
        return new ListPage(out, true);
      }
      out.add(info(e.getKey(), e.getValue()));
    }
    return new ListPage(out, false);
  }

  @Override
  public void delete(String key) {
    objects.remove(key);
  }

  /** How many objects there are. */
  public int size() {
    return objects.size();
  }

  /** Replaces an object's bytes behind the store's back (for corruption tests). */
  public void overwrite(String key, byte[] data) {
    objects.put(key, data.clone());
  }

  private byte[] bytes(String key) {
    byte[] b = objects.get(key);
    if (b == null) {
      throw new ObjectNotFoundException(key);
    }
    return b;
  }

  private static ObjectInfo info(String key, byte[] b) {
    // Entity tag of a single-part S3 upload: the MD5 of the bytes. Cheap enough for tests.
    try {
      byte[] md5 = java.security.MessageDigest.getInstance("MD5").digest(b);
      return new ObjectInfo(key, b.length, HexFormat.of().formatHex(md5));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
