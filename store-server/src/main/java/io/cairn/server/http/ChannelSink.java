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
  private boolean headersSent;

  ChannelSink(StreamSinkChannel channel, AtomicLong counter) {
    this.channel = channel;
    this.counter = counter;
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
    CountingOutputStream.counted(counter, n, () -> Channels.transferBlocking(channel, file, position, n));
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
