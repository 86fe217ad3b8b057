package io.cairn.server.http;

import io.cairn.error.ErrorCode;
import io.undertow.server.ConduitWrapper;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.ConduitFactory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * A minimum rate for request bodies. An idle timeout alone lets a client hold a worker for ever by
 * sending one byte just before each timeout; here, from the first read on, a body gets {@code
 * headStart} to get going and must then keep an average of {@code minRate} bytes per second. A
 * body that falls behind fails the read with {@link TooSlow}, which the endpoint's error path turns
 * into 408 REQUEST_TIMEOUT (nothing is stored: every endpoint stores only complete bodies).
 *
 * <p>Only a read that finds no bytes waiting is judged, so a handler that was slow to start
 * reading (waiting on a lock) is not blamed for bytes that had already arrived.
 */
final class BodyDeadline extends AbstractStreamSourceConduit<StreamSourceConduit> {
  /** The failure of a body that arrived too slowly; an IOException because it ends a stream read. */
  static final class TooSlow extends IOException {
    TooSlow(String message) {
      super(message);
    }

    ApiException toApi() {
      return new ApiException(ErrorCode.REQUEST_TIMEOUT, getMessage());
    }
  }

  /** Adds the deadline to every request's body. */
  static ConduitWrapper<StreamSourceConduit> wrapper(Duration headStart, long minRate) {
    return (ConduitFactory<StreamSourceConduit> factory, HttpServerExchange ex) ->
        new BodyDeadline(factory.create(), headStart.toNanos(), minRate);
  }

  private final long headStartNanos;
  private final long minRate;
  private long start = -1;
  private long received;

  private BodyDeadline(StreamSourceConduit next, long headStartNanos, long minRate) {
    super(next);
    this.headStartNanos = headStartNanos;
    this.minRate = minRate;
  }

  /** Nanoseconds until the body is behind its minimum rate (negative: it is). */
  private long left() {
    long now = System.nanoTime();
    if (start < 0) {
      start = now;
    }
    long allowed = headStartNanos + (long) (received * 1e9 / minRate);
    return start + allowed - now;
  }

  private <T extends Number> T judged(T n) throws TooSlow {
    if (n.longValue() > 0) {
      received += n.longValue();
    } else if (n.longValue() == 0 && left() <= 0) {
      throw tooSlow();
    }
    return n;
  }

  private TooSlow tooSlow() {
    long seconds = Math.max(1, (System.nanoTime() - start) / 1_000_000_000L);
    return new TooSlow("the request body arrived too slowly: " + received + " bytes in " + seconds + " s; the"
        + " server needs at least " + minRate + " bytes/s after the first " + headStartNanos / 1_000_000_000L
        + " s (cairn serve --body-min-rate, --idle-timeout). Nothing was stored");
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return judged(next.read(dst));
  }

  @Override
  public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
    return judged(next.read(dsts, offs, len));
  }

  @Override
  public long transferTo(long position, long count, FileChannel target) throws IOException {
    return judged(next.transferTo(position, count, target));
  }

  @Override
  public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
    return judged(next.transferTo(count, throughBuffer, target));
  }

  @Override
  public void awaitReadable() throws IOException {
    long left = left();
    if (left <= 0) {
      throw tooSlow();
    }
    next.awaitReadable(left, TimeUnit.NANOSECONDS);
  }

  @Override
  public void awaitReadable(long time, TimeUnit unit) throws IOException {
    long left = left();
    if (left <= 0) {
      throw tooSlow();
    }
    next.awaitReadable(Math.min(unit.toNanos(time), left), TimeUnit.NANOSECONDS);
  }
}
