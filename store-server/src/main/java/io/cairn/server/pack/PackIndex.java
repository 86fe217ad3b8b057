package io.cairn.server.pack;

import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The index of one pack: its key, size, block size and entries in frame order. Immutable. */
public final class PackIndex {
  /** Where one block is: its frame's byte range in the pack, its slot in the frame, the encoding. */
  public record Entry(BlockId id, long frameOffset, int frameLength, int slot, boolean compressed) {}

  private final String key;
  private final long packBytes;
  private final BlockSize blockSize;
  private final List<Entry> entries;
  private final Map<BlockId, Integer> byId;

  PackIndex(String key, long packBytes, BlockSize blockSize, List<Entry> entries) {
    this.key = key;
    this.packBytes = packBytes;
    this.blockSize = blockSize;
    this.entries = Collections.unmodifiableList(new ArrayList<>(entries));
    this.byId = new HashMap<>(entries.size() * 2);
    for (int i = 0; i < entries.size(); i++) {
      byId.put(entries.get(i).id(), i);
    }
  }

  /** The pack's object key. */
  public String key() {
    return key;
  }

  public long packBytes() {
    return packBytes;
  }

  public BlockSize blockSize() {
    return blockSize;
  }

  public List<Entry> entries() {
    return entries;
  }

  public Optional<Entry> find(BlockId id) {
    Integer i = byId.get(id);
    return i == null ? Optional.empty() : Optional.of(entries.get(i));
  }

  /** Parses {@code count} entries at {@code off} of {@code b}, checking their SHA-256 and layout. */
  static PackIndex parse(String key, long packBytes, PackFormat.Trailer t, byte[] b, int off) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(b, off, (int) t.indexBytes());
      if (!MessageDigest.isEqual(md.digest(), t.indexSha256())) {
        throw new PackFormatException(key, "index does not match its SHA-256 in the trailer");
      }
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    ByteBuffer in = ByteBuffer.wrap(b, off, (int) t.indexBytes());
    List<Entry> entries = new ArrayList<>(t.count());
    int bs = t.blockSize().bytes();
    for (int i = 0; i < t.count(); i++) {
      BlockId id = BlockId.fromRaw(in);
      long frameOffset = Integer.toUnsignedLong(in.getInt());
      int frameLength = in.getInt();
      int slot = in.get() & 0xff;
      byte enc = in.get();
      in.getShort();
      boolean ok = frameOffset >= PackFormat.HEADER_BYTES && frameLength > 0
          && frameOffset + frameLength <= t.indexOffset() && (enc == PackFormat.RAW || enc == PackFormat.ZSTD)
          && (enc != PackFormat.RAW || (long) (slot + 1) * bs <= frameLength) && !id.isZero();
      if (!ok) {
        throw new PackFormatException(key, "index entry " + i + " is inconsistent");
      }
      entries.add(new Entry(id, frameOffset, frameLength, slot, enc == PackFormat.ZSTD));
    }
    return new PackIndex(key, packBytes, t.blockSize(), entries);
  }
}
