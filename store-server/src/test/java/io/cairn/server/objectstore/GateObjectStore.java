package io.cairn.server.objectstore;

import io.cairn.server.objects.ObjectStore;
import java.io.InputStream;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Holds the first create-only put under a prefix until released, so a test can let another server
 * act between a writer's read and its write: the interleaving of a race, made deterministic.
 */
final class GateObjectStore implements ObjectStore {
  private final ObjectStore inner;
  private final String prefix;
  final CountDownLatch arrived = new CountDownLatch(1);
  final CountDownLatch release = new CountDownLatch(1);

  GateObjectStore(ObjectStore inner, String prefix) {
    this.inner = inner;
    this.prefix = prefix;
  }

  @Override
  public PutResult putIfAbsent(String key, byte[] data, int off, int len) {
    if (key.startsWith(prefix) && arrived.getCount() > 0) {
      arrived.countDown();
      try {
        if (!release.await(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("gate never released");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    return inner.putIfAbsent(key, data, off, len);
  }

  @Override
  public void put(String key, byte[] data, int off, int len) {
    inner.put(key, data, off, len);
  }

  @Override
  public InputStream get(String key) {
    return inner.get(key);
  }

  @Override
  public RangeStream get(String key, io.cairn.server.objects.ObjectRange range) {
    return inner.get(key, range);
  }

  @Override
  public Optional<ObjectInfo> head(String key) {
    return inner.head(key);
  }

  @Override
  public ListPage list(String p, Optional<String> startAfter, int max) {
    return inner.list(p, startAfter, max);
  }

  @Override
  public void delete(String key) {
    inner.delete(key);
  }
}
