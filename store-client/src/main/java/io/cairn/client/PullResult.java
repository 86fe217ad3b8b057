package io.cairn.client;

import io.cairn.id.ImageDigest;
import java.nio.file.Path;

/**
 * What a pull did, in bytes of the image: {@code bytesFetched} came from the server (block payload,
 * each distinct block once), {@code bytesFromCache} and {@code bytesFromSeeds} were copied locally,
 * {@code zeroBytes} were left as holes. {@code pagesFetched} counts index pages not in the cache.
 */
public record PullResult(
    ImageDigest digest,
    Path file,
    long size,
    long bytesFetched,
    long bytesFromCache,
    long bytesFromSeeds,
    long zeroBytes,
    long pagesFetched,
    long nanos) {

  public double seconds() {
    return nanos / 1e9;
  }
}
