package io.cairn.fuse;

import io.cairn.client.CairnClient;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One mount, in the foreground: lists the server, mounts, serves until unmounted, then cleans up.
 * It is unmounted by {@code fusermount -u MOUNTPOINT} or by SIGTERM/SIGINT; on a signal the
 * shutdown hook unmounts (lazily, so a busy mount detaches at once) and cleans up before the process
 * exits, even while files are still open.
 */
public final class MountSession {
  private final CairnClient client;
  private final Path mountPoint;
  private final Path cacheDir;
  private final boolean allowOther;
  private final Duration flushInterval;
  private final boolean holdFlush;
  private final EventLog log;
  private final java.util.Optional<io.cairn.sign.TrustSet> trust;
  private final java.util.Optional<Path> metricsFile;
  private final OverlayVolume.JournalLimit journalLimit;
  private final boolean allowShrink;

  /**
   * {@code flushInterval}: how often overlay journals are sent in the background; {@code
   * holdFlush}: send them only at unmount (for tests that crash the bridge with unflushed writes);
   * {@code journalBytes}: the most an overlay's journal may hold before writes wait, at most {@code
   * journalWait}, for the flusher; {@code allowShrink}: truncate may make an overlay smaller.
   */
  public MountSession(CairnClient client, Path mountPoint, Path cacheDir, boolean allowOther, Duration flushInterval,
      boolean holdFlush, EventLog log, java.util.Optional<io.cairn.sign.TrustSet> trust,
      java.util.Optional<Path> metricsFile, long journalBytes, Duration journalWait, boolean allowShrink) {
    this.journalLimit = new OverlayVolume.JournalLimit(journalBytes, journalWait.toNanos());
    this.allowShrink = allowShrink;
    this.trust = trust;
    this.metricsFile = metricsFile;
    this.flushInterval = flushInterval;
    this.holdFlush = holdFlush;
    this.client = client;
    this.mountPoint = mountPoint.toAbsolutePath().normalize();
    this.cacheDir = cacheDir;
    this.allowOther = allowOther;
    this.log = log;
  }

  /** Mounts and blocks until the mount is gone. */
  public void run() {
    if (!Files.isDirectory(mountPoint)) {
      throw new InvalidInputException("mount point " + mountPoint + " is not a directory (mkdir it first)");
    }
    ServerHealth health = new ServerHealth(client.endpoint(), log);
    java.util.function.UnaryOperator<List<io.cairn.client.ImageInfo>> filter = trust
        .<java.util.function.UnaryOperator<List<io.cairn.client.ImageInfo>>>map(t -> new TrustFilter(client, t, log)::apply)
        .orElse(l -> l);
    Catalog catalog = new Catalog(client, () -> client.overlays().list().stream().map(OverlayEntry::new).toList(),
        log, health, filter);
    Tree first = catalog.load(); // no listing, no mount: the error says why (server, token)
    java.util.Optional<MetricsFile> metrics = metricsFile.map(f -> new MetricsFile(client, f));
    Volumes volumes = new Volumes(client, cacheDir, health, log, journalLimit);
    volumes.replay(first.overlays());
    Flusher flusher = new Flusher(volumes::all, flushInterval, holdFlush);
    AtomicBoolean live = new AtomicBoolean();
    CountDownLatch done = new CountDownLatch(1);
    NativeWarmUp.await();
    CairnFs fs = new CairnFs(catalog, client, volumes, flusher, health, log, cacheDir, allowShrink, () -> {
      live.set(true);
      log.event("mount", "mounted " + client.endpoint() + " at " + mountPoint + ": " + first.imageFiles()
          + " image files, " + first.overlayFiles() + " overlays (listing refreshed at most every "
          + Catalog.REFRESH.toSeconds() + " s)");
    });
    Runnable cleanup = new Runnable() {
      private boolean cleaned;

      @Override
      public synchronized void run() { // the signal hook and the main thread may both get here; the second waits
        if (!cleaned) {
          cleaned = true;
          finish(flusher, volumes);
          metrics.ifPresent(MetricsFile::close);
          if (live.get()) {
            log.event("unmount", "unmounted " + mountPoint + " (" + fs.openHandles() + " handles were open)");
          }
        }
      }
    };
    Thread hook = new Thread(() -> {
      if (done.getCount() == 0) {
        return;
      }
      log.event("unmount", "signal received, unmounting " + mountPoint);
      unmount();
      try {
        // Without open files the lazy unmount ends the FUSE loop and the main thread cleans up. With
        // files open the loop would run until they are closed, so clean up here and exit; programs
        // still holding files then get ENOTCONN.
        if (!done.await(2, TimeUnit.SECONDS)) {
          cleanup.run();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "cairn-unmount");
    Runtime.getRuntime().addShutdownHook(hook);
    flusher.start();
    try {
      boolean mounted;
      try {
        mounted = fs.serve(mountPoint, fuseOptions());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        mounted = live.get();
      }
      if (!mounted || !live.get()) {
        throw cannotMount(null);
      }
    } finally {
      try {
        cleanup.run();
      } finally {
        done.countDown();
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // already shutting down: the hook is running and has just been released
        }
      }
    }
  }

  private CairnException cannotMount(Exception cause) {
    return new CairnException(ErrorCode.INTERNAL, "cannot mount at " + mountPoint + ": libfuse refused (is something"
        + " already mounted there, or the directory not empty? is /dev/fuse usable and fusermount installed?"
        + " libfuse's own message is above)", cause);
  }

  /** Stops background flushing, then sends what is left and syncs the journals; what fails stays for the next mount. */
  private void finish(Flusher flusher, Volumes volumes) {
    flusher.close();
    if (!flusher.flushDirty()) {
      log.event("error", "some overlay writes could not be sent; they stay in the journal and are sent by the next"
          + " mount");
    }
    volumes.close();
  }

  private List<String> fuseOptions() {
    List<String> o = new ArrayList<>();
    // big_writes: 128 KiB writes instead of 4 KiB ones (measured 61-68 MB/s -> ~290 MB/s here).
    String opts = "fsname=cairn,subtype=cairn,big_writes,max_write=131072";
    if (allowOther) {
      opts += ",allow_other";
    }
    o.add("-o");
    o.add(opts);
    return o;
  }

  /** {@code fusermount -u -z}: lazy, so the mount detaches now even while files are open. */
  private void unmount() {
    try {
      Process p = new ProcessBuilder("fusermount", "-u", "-z", mountPoint.toString()).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      log.event("error", "cannot run fusermount to unmount " + mountPoint + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
