package io.cairn.client.cli;

import io.cairn.cli.Progress;
import io.cairn.client.ProgressListener;

/** Shows a client's progress on {@link Progress}, created on the first report (when the total is known). */
final class ProgressBridge implements ProgressListener, AutoCloseable {
  private final String task;
  private final boolean quiet;
  private Progress bar;

  ProgressBridge(String task, boolean quiet) {
    this.task = task;
    this.quiet = quiet;
  }

  @Override
  public synchronized void progress(long done, long total) {
    if (bar == null) {
      bar = Progress.start(task, total, quiet);
    }
    bar.accept(done);
  }

  @Override
  public synchronized void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
