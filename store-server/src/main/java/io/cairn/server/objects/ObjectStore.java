package io.cairn.server.objects;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A bucket of immutable objects. Implementations are thread-safe. Keys are relative to the store
 * (an S3 store adds its own prefix); they are non-empty and at most 512 bytes of UTF-8.
 */
public interface ObjectStore {
  /**
   * Writes {@code data[off, off + len)} under {@code key} only if no object has that key
   * ({@code If-None-Match: *}). Among racing writers of one key exactly one gets {@link
   * PutResult#CREATED}; the others get {@link PutResult#EXISTS} and the object is the winner's.
   */
  PutResult putIfAbsent(String key, byte[] data, int off, int len);

  /**
   * Writes or replaces the object under {@code key}. Only for content-addressed keys, where every
   * writer of a key writes the same bytes, so a replacement changes nothing.
   */
  void put(String key, byte[] data, int off, int len);

  /** The whole object, streamed; {@link ObjectNotFoundException} when absent. Close it. */
  InputStream get(String key);

  /**
   * Part of the object, streamed. A range reaching past the end is cut at the end; a range that
   * starts at or past the end is {@link ObjectStoreException} ({@code RANGE_NOT_SATISFIABLE}).
   */
  RangeStream get(String key, ObjectRange range);

  /** Size and entity tag, or empty when absent. */
  Optional<ObjectInfo> head(String key);

  /**
   * Up to {@code max} objects whose keys start with {@code prefix} and sort after {@code
   * startAfter} (empty: from the first), in key order (unsigned bytes of the UTF-8 key).
   */
  ListPage list(String prefix, Optional<String> startAfter, int max);

  /** Removes the object; removing an absent object is not an error. */
  void delete(String key);

  /** Calls {@code visitor} for every object under {@code prefix}, in key order, a page at a time. */
  default void forEach(String prefix, Optional<String> startAfter, Consumer<ObjectInfo> visitor) {
    Optional<String> after = startAfter;
    while (true) {
      ListPage page = list(prefix, after, 1000);
      page.objects().forEach(visitor);
      if (!page.truncated() || page.objects().isEmpty()) {
        return;
      }
      after = Optional.of(page.objects().get(page.objects().size() - 1).key());
    }
  }

  /**
   * Reads a range fully into a new array (fewer bytes than asked when it reaches the end). A body
   * that ends before the length its {@code Content-Range} announced broke off in transit (a gateway
   * stopping mid-response ends it cleanly, measured: 0 of 1 MiB), so it is retryable, not damage.
   */
  default byte[] read(String key, ObjectRange range) {
    try (RangeStream r = get(key, range)) {
      byte[] bytes = r.body().readAllBytes();
      if (bytes.length < r.length()) {
        throw new ObjectUnavailableException(key, "reading " + range + " ended after " + bytes.length + " of the "
            + r.length() + " bytes announced", null);
      }
      return bytes;
    } catch (IOException e) {
      throw new ObjectUnavailableException(key, "reading " + range + " broke off: " + e, e);
    }
  }

  /** Reads a whole object into a new array. */
  default byte[] readAll(String key) {
    try (InputStream in = get(key)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new ObjectUnavailableException(key, "reading broke off: " + e, e);
    }
  }

  /** Outcome of a create-only write. */
  enum PutResult {
    CREATED,
    EXISTS
  }

  /** An object's key, size in bytes and entity tag (as the store gives it; quotes removed). */
  record ObjectInfo(String key, long size, String etag) {}

  /** One page of a listing; {@code truncated} when more objects follow. */
  record ListPage(java.util.List<ObjectInfo> objects, boolean truncated) {}

  /**
   * A streamed part of an object: the body, where it starts, how long it is and the whole object's
   * size (from {@code Content-Range}), so a reader of the last bytes learns where they sit.
   */
  record RangeStream(InputStream body, long offset, long length, long objectSize) implements AutoCloseable {
    @Override
    public void close() {
      try {
        body.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
