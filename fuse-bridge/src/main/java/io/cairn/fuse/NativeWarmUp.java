package io.cairn.fuse;

import java.util.concurrent.CountDownLatch;

/**
 * Builds the native side of a mount on a background thread while the command line is still being
 * parsed, so that the two overlap on start-up (docs/fuse.md, "Start-up"). jnr-fuse's constructor
 * has jnr-ffi generate a class for each native callback, and loading libfuse generates a proxy for
 * its calls: about 0.3 s of a 1 s start on this 2-core machine. jnr-ffi keeps what it generated
 * for the life of the JVM, so {@link CairnFs} and {@link FuseLoop} built later reuse it.
 */
public final class NativeWarmUp {
  private static final CountDownLatch DONE = new CountDownLatch(1);
  private static volatile boolean started;

  private NativeWarmUp() {}

  /** Starts the warm-up once; it changes nothing visible and a failure in it only loses the head start. */
  public static synchronized void start() {
    if (started) {
      return;
    }
    started = true;
    Thread t = new Thread(() -> {
      try {
        CairnFs.buildCallbacks();
        FuseLoop.library();
      } catch (RuntimeException | LinkageError e) {
        // no libfuse, say: the mount reports that itself when it gets there
      } finally {
        DONE.countDown();
      }
    }, "cairn-fuse-warmup");
    t.setDaemon(true);
    t.start();
  }

  /** Waits for a started warm-up to finish, so that the mount does not generate the same classes at the same time. */
  static void await() {
    if (started) {
      try {
        DONE.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // the mount then builds what the warm-up had not
      }
    }
  }
}
