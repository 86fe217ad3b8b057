package io.cairn.server.store;

import io.cairn.id.Tag;
import java.nio.charset.StandardCharsets;

/** Key encodings of the RocksDB column families (see docs/design.md, "Key layout"). */
final class Keys {
  static final byte[] BLOCK_COUNT = "blocks.count".getBytes(StandardCharsets.US_ASCII);
  static final byte[] BLOCK_BYTES = "blocks.bytes".getBytes(StandardCharsets.US_ASCII);

  /** The last overlay id handed out; stored with each new overlay so ids are never reused. */
  static final byte[] OVERLAY_NEXT_ID = "overlays.last-id".getBytes(StandardCharsets.US_ASCII);

  private Keys() {}

  /**
   * A {@code block_keys} value: when the block was last written or touched (u64 LE milliseconds),
   * then its sequence number, the key of its bytes in {@code block_data} (u64 BE). Format-1 stores
   * have values of 0 or 8 bytes (no sequence number; an empty value reads as touched at 0) until
   * {@link BlockLayoutMigration} rewrites them.
   */
  static byte[] blockKeyValue(long millis, long seq) {
    byte[] v = java.util.Arrays.copyOf(u64le(millis), 16);
    java.nio.ByteBuffer.wrap(v, 8, 8).putLong(seq);
    return v;
  }

  static long touchMillis(byte[] v) {
    return v.length < 8 ? 0 : u64le(v);
  }

  /** The sequence number in a {@code block_keys} value, or -1 for a format-1 value that has none. */
  static long seq(byte[] v) {
    // Exactly 16: a packed block's value ({@link PackLocation}) is longer and names no row.
    return v.length != 16 ? -1 : java.nio.ByteBuffer.wrap(v, 8, 8).getLong();
  }

  /** {@code v} with its touch time set to {@code millis}, whatever follows it (row or pack location). */
  static byte[] retouch(byte[] v, long millis) {
    if (v.length < 16) {
      return blockKeyValue(millis, seq(v)); // format 1: the value gains its (absent) sequence number
    }
    byte[] out = v.clone();
    System.arraycopy(u64le(millis), 0, out, 0, 8);
    return out;
  }

  /** A {@code block_data} key: the sequence number, big-endian, so key order is insertion order. */
  static byte[] seqKey(long seq) {
    return java.nio.ByteBuffer.allocate(8).putLong(seq).array();
  }

  static long seqFromKey(byte[] key) {
    return java.nio.ByteBuffer.wrap(key).getLong();
  }

  /** Quarantine key: a kind byte ('b' block, 'p' page) and the raw id. */
  static byte[] quarantine(char kind, io.cairn.id.Sha256Id id) {
    byte[] k = new byte[33];
    k[0] = (byte) kind;
    id.copyRawTo(k, 1);
    return k;
  }

  /** Overlay key: {@code owner 0x00 name}, so one owner's overlays are adjacent and in name order. */
  static byte[] overlay(io.cairn.id.UserName owner, io.cairn.id.OverlayName name) {
    byte[] o = overlayPrefix(owner);
    byte[] n = name.value().getBytes(StandardCharsets.UTF_8);
    byte[] k = java.util.Arrays.copyOf(o, o.length + n.length);
    System.arraycopy(n, 0, k, o.length, n.length);
    return k;
  }

  static byte[] overlayPrefix(io.cairn.id.UserName owner) {
    byte[] o = owner.value().getBytes(StandardCharsets.UTF_8);
    return java.util.Arrays.copyOf(o, o.length + 1);
  }

  /** Profile key: overlay id then block number, both big-endian so RocksDB's order is numeric order. */
  static byte[] profile(long overlayId, long block) {
    return java.nio.ByteBuffer.allocate(16).putLong(overlayId).putLong(block).array();
  }

  /** Tag key: {@code name 0x00 tag}; 0x00 sorts before every name character, so all tags of a name are adjacent. */
  static byte[] tag(Tag t) {
    byte[] n = t.name().value().getBytes(StandardCharsets.UTF_8);
    byte[] g = t.tag().getBytes(StandardCharsets.UTF_8);
    byte[] k = new byte[n.length + 1 + g.length];
    System.arraycopy(n, 0, k, 0, n.length);
    System.arraycopy(g, 0, k, n.length + 1, g.length);
    return k;
  }

  /**
   * Signature key: the tag key, 0x00, then the key id (8 raw bytes). Tags contain no 0x00, so the
   * prefix {@code name 0 tag 0} holds exactly one tag's signatures ("v1" never matches "v10").
   */
  static byte[] signature(Tag t, io.cairn.sign.KeyId id) {
    byte[] p = signaturePrefix(t);
    byte[] k = java.util.Arrays.copyOf(p, p.length + io.cairn.sign.KeyId.LENGTH);
    id.copyRawTo(k, p.length);
    return k;
  }

  static byte[] signaturePrefix(Tag t) {
    byte[] k = tag(t);
    return java.util.Arrays.copyOf(k, k.length + 1);
  }

  /** The first key after every key that starts with {@link #signaturePrefix}: the prefix with its 0x00 made 0x01. */
  static byte[] signaturePrefixEnd(Tag t) {
    byte[] k = signaturePrefix(t);
    k[k.length - 1] = 1;
    return k;
  }

  static Tag tag(byte[] key) {
    for (int i = 0; i < key.length; i++) {
      if (key[i] == 0) {
        String name = new String(key, 0, i, StandardCharsets.UTF_8);
        String tag = new String(key, i + 1, key.length - i - 1, StandardCharsets.UTF_8);
        return Tag.of(io.cairn.id.ImageName.of(name), tag);
      }
    }
    throw new IllegalStateException("malformed tag key");
  }

  static byte[] u64le(long v) {
    byte[] b = new byte[8];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (v >>> (8 * i));
    }
    return b;
  }

  static long u64le(byte[] b) {
    if (b == null) {
      return 0;
    }
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v |= (b[i] & 0xffL) << (8 * i);
    }
    return v;
  }
}
