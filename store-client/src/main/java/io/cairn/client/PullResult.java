package io.cairn.client;

import io.cairn.id.ImageDigest;
import io.cairn.sign.ImageSignature;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What a pull did, in bytes of the image: {@code bytesFetched} came from the server (block payload,
 * each distinct block once), {@code bytesFromCache} and {@code bytesFromSeeds} were copied locally,
 * {@code zeroBytes} were left as holes. {@code pagesFetched} counts index pages not in the cache.
 * {@code signature} is the trusted signature that vouched for the image, when the pull had a trust
 * set.
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
    long nanos,
    Optional<ImageSignature> signature) {

  public double seconds() {
    return nanos / 1e9;
  }
}
