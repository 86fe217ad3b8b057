package io.cairn.server.http;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.AtomicLong;
import org.xnio.channels.Channels;
import org.xnio.channels.StreamSinkChannel;

/**
 * A response body written straight to Undertow's channel, for bodies sent from a file: {@link
 * #transfer} becomes {@code sendfile}, which {@code OutputStream} cannot express for a part of a
 * file. Counts bytes as {@link CountingOutputStream} does. Worker threads only (it blocks).
 */
final class ChannelSink {
  private final StreamSinkChannel channel;
  private final AtomicLong counter;
  /** Runs between pieces; throws to stop the body (the store is closing). */
  private final Runnable checkpoint;
  private boolean headersSent;

  /** Largest piece sent in one call, so a long run of a huge disk still stops soon at shutdown. */
  private static final long PIECE = 16L << 20;

  ChannelSink(StreamSinkChannel channel, AtomicLong counter, Runnable checkpoint) {
    this.channel = channel;
    this.counter = counter;
    this.checkpoint = checkpoint;
  }

  /** Sends {@code n} bytes of {@code file} from {@code position}; the file must hold them. */
  void transfer(FileChannel file, long position, long n) throws IOException {
    if (!headersSent) {
      // While the response headers are unwritten, Undertow's transferFrom sends one buffer read from
      // the file's current position, ignoring the position and count asked for (2.4.4): a range
      // would start at byte 0. Flushed headers make it go straight to sendfile.
      Channels.flushBlocking(channel);
      headersSent = true;
    }
    for (long done = 0; done < n; ) {
      checkpoint.run();
      long k = Math.min(PIECE, n - done);
      long at = position + done;
      CountingOutputStream.counted(counter, k, () -> Channels.transferBlocking(channel, file, at, k));
      done += k;
    }
  }

  /** Sends {@code n} zero bytes from {@code zeros}, a file of zero bytes, a piece at a time. */
  void zeros(FileChannel zeros, long n) throws IOException {
    long piece = zeros.size();
    while (n > 0) {
      long k = Math.min(n, piece);
      transfer(zeros, 0, k);
      n -= k;
    }
  }

  /** Ends the body and waits until the channel has taken all of it. */
  void finish() throws IOException {
    channel.shutdownWrites();
    Channels.flushBlocking(channel);
  }
}
