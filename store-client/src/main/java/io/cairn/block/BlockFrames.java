package io.cairn.block;

import io.cairn.error.InvalidInputException;
import io.cairn.id.BlockId;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * The block-batch wire format ({@code application/vnd.cairn.blocks}), the one codec both sides use:
 * a body is a sequence of frames {@code id (32 raw bytes) | block (blockSize bytes)}, with no
 * header, count or padding, so a body of {@code n} frames is exactly {@code n x (32 + blockSize)}
 * bytes. The server writes it for {@code POST /v1/blocks/fetch} and the image block ranges and parses
 * it in uploads; the client parses the former and writes the latter. Immutable, thread-safe.
 */
public final class BlockFrames {
  public static final String MEDIA_TYPE = "application/vnd.cairn.blocks";

  private final int blockBytes;
  private final int frameBytes;

  public BlockFrames(int blockBytes) {
    this.blockBytes = blockBytes;
    this.frameBytes = BlockId.LENGTH + blockBytes;
  }

  public int blockBytes() {
    return blockBytes;
  }

  /** Bytes of one frame: the id and the block. */
  public int frameBytes() {
    return frameBytes;
  }

  /** Exact length of a body of {@code count} frames. */
  public long bodyBytes(long count) {
    return count * frameBytes;
  }

  /** How many whole frames fit in {@code bytes}. */
  public int framesIn(long bytes) {
    return (int) Math.min(Integer.MAX_VALUE, bytes / frameBytes);
  }

  /**
   * Number of frames in a body of {@code length} bytes; {@link InvalidInputException} when it is
   * not a whole number of frames (a truncated or foreign body).
   */
  public int count(long length) {
    if (length < 0 || length % frameBytes != 0) {
      throw new InvalidInputException("upload body of " + length + " bytes is not a whole number of " + frameBytes
          + "-byte frames (32-byte id + block); was it truncated?");
    }
    return Math.toIntExact(length / frameBytes);
  }

  /** Writes frame {@code index} of {@code body}: {@code id} and the block at {@code src[off ..]}. */
  public void put(byte[] body, int index, BlockId id, byte[] src, int off) {
    int at = index * frameBytes;
    id.copyRawTo(body, at);
    System.arraycopy(src, off, body, at + BlockId.LENGTH, blockBytes);
  }

  /**
   * Writes {@code ids.size()} frames into {@code body} from {@code ids} and the blocks stored back
   * to back in {@code blocks}; returns the bytes written.
   */
  public int encode(List<BlockId> ids, byte[] blocks, byte[] body) {
    for (int i = 0; i < ids.size(); i++) {
      put(body, i, ids.get(i), blocks, i * blockBytes);
    }
    return ids.size() * frameBytes;
  }

  /** The id of frame {@code index} in a body held in memory. */
  public BlockId id(byte[] body, int index) {
    return BlockId.fromRaw(body, index * frameBytes);
  }

  /** Where the block of frame {@code index} starts in a body held in memory. */
  public int blockOffset(int index) {
    return index * frameBytes + BlockId.LENGTH;
  }

  /** A reader of frames from a stream; buffers {@code bufferBytes} at a time. */
  public Reader reader(InputStream in, int bufferBytes) {
    return new Reader(new BufferedInputStream(in, Math.max(bufferBytes, frameBytes)));
  }

  /** Reads frames one at a time, each block straight into the caller's array. Not thread-safe. */
  public final class Reader {
    private final InputStream in;
    private final byte[] raw = new byte[BlockId.LENGTH];

    private Reader(InputStream in) {
      this.in = in;
    }

    /**
     * Reads the next frame: its block into {@code dst[off ..]}, and returns its id (as sent, not
     * verified). Throws {@link EOFException} when the stream ends before a whole frame.
     */
    public BlockId next(byte[] dst, int off) throws IOException {
      readFully(raw, 0, BlockId.LENGTH);
      readFully(dst, off, blockBytes);
      return BlockId.fromRaw(raw);
    }

    private void readFully(byte[] b, int off, int len) throws IOException {
      int done = 0;
      while (done < len) {
        int n = in.read(b, off + done, len - done);
        if (n < 0) {
          throw new EOFException("block stream ended inside a frame");
        }
        done += n;
      }
    }
  }
}
