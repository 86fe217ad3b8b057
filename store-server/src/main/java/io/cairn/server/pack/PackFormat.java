package io.cairn.server.pack;

import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import java.nio.ByteBuffer;

/**
 * The pack byte grammar, format version 1. All integers big-endian.
 *
 * <pre>
 * Pack    := Header Frame* Index Trailer
 * Header  := "CPAK" version u8 (1) log2B u8 (12..20) reserved u16 (0)                  8 bytes
 * Frame   := zstd frame of k blocks' bytes back to back (1 ≤ k ≤ 255)
 *          | k raw blocks (when zstd would not make the group smaller)
 * Index   := count × Entry, in frame order, every block of every frame
 * Entry   := id (32) frameOffset u32 frameLength u32 slot u8 encoding u8 (0 raw, 1 zstd)
 *            reserved u16 (0)                                                         44 bytes
 * Trailer := indexOffset u64 count u32 indexSha256 (32) version u8 log2B u8 reserved u16
 *            "KAPC"                                                                   52 bytes
 * </pre>
 *
 * A pack is at most 4 GiB (u32 offsets). A reader needs only the trailer to find the index, and
 * only an entry to read a block: fetch {@code [frameOffset, frameOffset + frameLength)}, decompress,
 * take {@code slot × B} bytes at {@code slot × B}, and check their SHA-256 against the id.
 */
public final class PackFormat {
  public static final int VERSION = 1;
  static final int HEADER_MAGIC = 0x4350414b; // "CPAK"
  static final int TRAILER_MAGIC = 0x4b415043; // "KAPC"
  public static final int HEADER_BYTES = 8;
  public static final int ENTRY_BYTES = 44;
  public static final int TRAILER_BYTES = 52;
  static final byte RAW = 0;
  static final byte ZSTD = 1;
  public static final int MAX_GROUP = 255;

  private PackFormat() {}

  static void writeHeader(ByteBuffer b, BlockSize size) {
    b.putInt(HEADER_MAGIC).put((byte) VERSION).put((byte) size.log2()).putShort((short) 0);
  }

  static void writeEntry(ByteBuffer b, BlockId id, long frameOffset, int frameLength, int slot, byte encoding) {
    id.copyRawTo(b);
    b.putInt((int) frameOffset).putInt(frameLength).put((byte) slot).put(encoding).putShort((short) 0);
  }

  static void writeTrailer(ByteBuffer b, long indexOffset, int count, byte[] indexSha256, BlockSize size) {
    b.putLong(indexOffset).putInt(count).put(indexSha256).put((byte) VERSION).put((byte) size.log2())
        .putShort((short) 0).putInt(TRAILER_MAGIC);
  }

  /** A parsed trailer: where the index is, how many entries, its hash, the pack's block size. */
  record Trailer(long indexOffset, int count, byte[] indexSha256, BlockSize blockSize) {
    long indexBytes() {
      return (long) count * ENTRY_BYTES;
    }
  }

  static Trailer readTrailer(String pack, byte[] b, int off, long packSize) {
    ByteBuffer t = ByteBuffer.wrap(b, off, TRAILER_BYTES);
    long indexOffset = t.getLong();
    int count = t.getInt();
    byte[] sha = new byte[32];
    t.get(sha);
    int version = t.get() & 0xff;
    int log2 = t.get() & 0xff;
    t.getShort();
    if (t.getInt() != TRAILER_MAGIC) {
      throw new PackFormatException(pack, "does not end with KAPC (truncated, or not a pack)");
    }
    if (version != VERSION) {
      throw new PackFormatException(pack, "has format version " + version + "; this Cairn reads version " + VERSION);
    }
    if (log2 < BlockSize.MIN_LOG2 || log2 > BlockSize.MAX_LOG2) {
      throw new PackFormatException(pack, "names block size 2^" + log2);
    }
    if (count < 0 || indexOffset < HEADER_BYTES
        || indexOffset + (long) count * ENTRY_BYTES + TRAILER_BYTES != packSize) {
      throw new PackFormatException(pack, "trailer says " + count + " entries at " + indexOffset
          + ", which does not fit a pack of " + packSize + " bytes");
    }
    return new Trailer(indexOffset, count, sha, BlockSize.ofLog2(log2));
  }
}
