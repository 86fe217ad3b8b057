package io.cairn.client;

/** Told how far a publish or pull has got, in bytes of the image; called from worker threads. */
@FunctionalInterface
public interface ProgressListener {
  ProgressListener NONE = (done, total) -> {};

  void progress(long doneBytes, long totalBytes);
}
