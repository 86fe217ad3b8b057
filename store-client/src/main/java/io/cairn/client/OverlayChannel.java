package io.cairn.client;

import io.cairn.id.OverlayName;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;

/**
 * An overlay's disk as a {@link SeekableByteChannel}: reads are Range requests, each write is one
 * atomic, durable server write (at most {@link OverlayClient#MAX_WRITE} bytes per call). The size is
 * fixed: writing past the end fails; resize through {@link OverlayClient#resize}.
 */
public final class OverlayChannel implements SeekableByteChannel {
  private final OverlayClient client;
  private final OverlayName name;
  private final long size;
  private long position;
  private boolean open = true;

  OverlayChannel(OverlayClient client, OverlayName name, long size) {
    this.client = client;
    this.name = name;
    this.size = size;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    ensureOpen();
    if (position >= size) {
      return -1;
    }
    int len = (int) Math.min(Math.min(dst.remaining(), OverlayClient.MAX_WRITE), size - position);
    byte[] b = new byte[len];
    int n = client.read(name, position, b, 0, len);
    if (n <= 0) {
      return -1;
    }
    dst.put(b, 0, n);
    position += n;
    return n;
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    ensureOpen();
    int len = Math.min(src.remaining(), OverlayClient.MAX_WRITE);
    if (position + len > size) {
      throw new NonWritableChannelException();
    }
    byte[] b = new byte[len];
    src.get(b);
    client.write(name, position, b, 0, len);
    position += len;
    return len;
  }

  @Override
  public long position() {
    return position;
  }

  @Override
  public SeekableByteChannel position(long newPosition) {
    if (newPosition < 0) {
      throw new IllegalArgumentException("negative position");
    }
    position = newPosition;
    return this;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public SeekableByteChannel truncate(long newSize) {
    throw new UnsupportedOperationException("overlays change size through OverlayClient.resize");
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() {
    open = false;
  }

  private void ensureOpen() throws ClosedChannelException {
    if (!open) {
      throw new ClosedChannelException();
    }
  }
}
