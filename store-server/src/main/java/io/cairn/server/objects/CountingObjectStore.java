package io.cairn.server.objects;

import java.io.InputStream;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts requests by kind and the bytes put and got, as a bucket's bill would: for the benchmark's
 * "PUT requests per GiB published" and "GET requests per GiB pulled".
 */
public final class CountingObjectStore implements ObjectStore {
  private final ObjectStore inner;
  private final AtomicLong puts = new AtomicLong();
  private final AtomicLong gets = new AtomicLong();
  private final AtomicLong heads = new AtomicLong();
  private final AtomicLong lists = new AtomicLong();
  private final AtomicLong deletes = new AtomicLong();
  private final AtomicLong bytesPut = new AtomicLong();
  private final AtomicLong bytesGot = new AtomicLong();

  public CountingObjectStore(ObjectStore inner) {
    this.inner = inner;
  }

  /** Request counts so far. */
  public record Counts(long puts, long gets, long heads, long lists, long deletes, long bytesPut, long bytesGot) {}

  public Counts counts() {
    return new Counts(puts.get(), gets.get(), heads.get(), lists.get(), deletes.get(), bytesPut.get(), bytesGot.get());
  }

  @Override
  public PutResult putIfAbsent(String key, byte[] data, int off, int len) {
    puts.incrementAndGet();
    bytesPut.addAndGet(len);
    return inner.putIfAbsent(key, data, off, len);
  }

  @Override
  public void put(String key, byte[] data, int off, int len) {
    puts.incrementAndGet();
    bytesPut.addAndGet(len);
    inner.put(key, data, off, len);
  }

  @Override
  public InputStream get(String key) {
    gets.incrementAndGet();
    return new java.io.FilterInputStream(inner.get(key)) {
      @Override
      public int read() throws java.io.IOException {
        int b = super.read();
        if (b >= 0) {
          bytesGot.incrementAndGet();
        }
        return b;
      }

      @Override
      public int read(byte[] buf, int off, int len) throws java.io.IOException {
        int n = super.read(buf, off, len);
        if (n > 0) {
          bytesGot.addAndGet(n);
        }
        return n;
      }
    };
  }

  @Override
  public RangeStream get(String key, ObjectRange range) {
    gets.incrementAndGet();
    RangeStream r = inner.get(key, range);
    bytesGot.addAndGet(r.length());
    return r;
  }

  @Override
  public Optional<ObjectInfo> head(String key) {
    heads.incrementAndGet();
    return inner.head(key);
  }

  @Override
  public ListPage list(String prefix, Optional<String> startAfter, int max) {
    lists.incrementAndGet();
    return inner.list(prefix, startAfter, max);
  }

  @Override
  public void delete(String key) {
    deletes.incrementAndGet();
    inner.delete(key);
  }
}
