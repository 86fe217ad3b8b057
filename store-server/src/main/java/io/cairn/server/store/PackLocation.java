package io.cairn.server.store;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * Where a packed block is: its pack (the SHA-256 that names {@code packs/<sha256>}), its frame's
 * byte range there, its slot in the frame and whether the frame is zstd. Kept in the block's
 * {@code block_keys} value after the touch time:
 *
 * <pre>
 * value := touchMillis u64le | packSha256 (32) | frameOffset u32 | frameLength u32 | slot u8 | zstd u8   50 bytes
 * </pre>
 *
 * A value of 16 bytes (touch, sequence number) names a row in {@code block_data} instead; the
 * lengths never collide, so one lookup tells which.
 */
record PackLocation(byte[] pack, long frameOffset, int frameLength, int slot, boolean compressed) {
  static final int VALUE_BYTES = 50;

  static boolean isPacked(byte[] value) {
    return value != null && value.length == VALUE_BYTES;
  }

  /** The pack's key, {@code packs/<sha256 hex>}. */
  String key() {
    return io.cairn.server.pack.PackWriter.PREFIX + HexFormat.of().formatHex(pack);
  }

  static byte[] packOf(String key) {
    return HexFormat.of().parseHex(key.substring(io.cairn.server.pack.PackWriter.PREFIX.length()));
  }

  byte[] value(long touchMillis) {
    ByteBuffer b = ByteBuffer.allocate(VALUE_BYTES);
    b.put(Keys.u64le(touchMillis)).put(pack).putInt((int) frameOffset).putInt(frameLength).put((byte) slot)
        .put((byte) (compressed ? 1 : 0));
    return b.array();
  }

  static PackLocation of(byte[] value) {
    ByteBuffer b = ByteBuffer.wrap(value, 8, VALUE_BYTES - 8);
    byte[] pack = new byte[32];
    b.get(pack);
    return new PackLocation(pack, Integer.toUnsignedLong(b.getInt()), b.getInt(), b.get() & 0xff, b.get() != 0);
  }

  /** Same pack, same frame, same slot (arrays compared by content, unlike the record's equals). */
  boolean sameAs(PackLocation o) {
    return java.util.Arrays.equals(pack, o.pack) && frameOffset == o.frameOffset && slot == o.slot;
  }
}
