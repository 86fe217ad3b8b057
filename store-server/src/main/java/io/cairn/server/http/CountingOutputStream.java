package io.cairn.server.http;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicLong;

/** Adds every byte that reaches the underlying stream to a counter, so the counter is exact even on abort. */
final class CountingOutputStream extends FilterOutputStream {
  private final AtomicLong counter;

  CountingOutputStream(OutputStream out, AtomicLong counter) {
    super(out);
    this.counter = counter;
  }

  @Override
  public void write(int b) throws IOException {
    out.write(b);
    counter.incrementAndGet();
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    out.write(b, off, len);
    counter.addAndGet(len);
  }
}
