package io.cairn.server.http;

import io.undertow.io.BufferWritableOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Adds every byte written to the underlying stream to a counter. Bytes are counted before they are
 * handed on, so a client that has read a whole response and then asks for {@code /v1/stats} sees them
 * (Undertow ends a fixed-length response inside the last write); a write that fails takes its bytes
 * back, so the counter stays exact on abort.
 */
final class CountingOutputStream extends FilterOutputStream {
  private final AtomicLong counter;

  CountingOutputStream(OutputStream out, AtomicLong counter) {
    super(out);
    this.counter = counter;
  }

  @Override
  public void write(int b) throws IOException {
    counted(counter, 1, () -> out.write(b));
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    counted(counter, len, () -> out.write(b, off, len));
  }

  interface Write {
    void run() throws IOException;
  }

  /** Counts {@code n} bytes, then writes them; takes them back if the write fails. */
  static void counted(AtomicLong counter, long n, Write w) throws IOException {
    counter.addAndGet(n);
    try {
      w.run();
    } catch (IOException e) {
      counter.addAndGet(-n);
      throw e;
    }
  }

  /** 1 MiB of zeros outside the heap, shared read-only: the socket reads it without a copy. */
  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

  /**
   * Writes {@code n} zero bytes. Undertow writes a large direct buffer straight to the socket, so
   * the zero regions of a sparse disk (most of a VM image) cost no copy in user space.
   */
  void writeZeros(long n) throws IOException {
    while (n > 0) {
      int k = (int) Math.min(n, ZEROS.capacity());
      counted(counter, k, () -> {
        if (out instanceof BufferWritableOutputStream b) {
          b.write(ZEROS.duplicate().limit(k));
        } else {
          out.write(new byte[k]);
        }
      });
      n -= k;
    }
  }
}
