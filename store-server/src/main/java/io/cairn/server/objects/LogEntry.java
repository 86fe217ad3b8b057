package io.cairn.server.objects;

import io.cairn.error.ErrorCode;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * One immutable entry of a {@link CasRegister}'s log (format version 1, big-endian):
 *
 * <pre>
 * Entry := "CLG1"          magic
 *          seq      u64    this entry's number, equal to the number in its key
 *          kind     u8     1 = value, 2 = tombstone (the register was deleted)
 *          nonce    16     random per write: a retried create-only put recognises its own entry
 *          prev     16     nonce of the entry seq - 1 this one was made from (zeros for seq 1)
 *          millis   u64    writer's clock when written (informational only; ordering is seq)
 *          length   u32    0..65536
 *          value    length bytes
 *          crc32c   u32    of every byte before it
 * </pre>
 */
final class LogEntry {
  static final int MAX_VALUE = 1 << 16;
  private static final int MAGIC = 0x434c4731; // "CLG1"
  private static final byte VALUE = 1;
  private static final byte TOMBSTONE = 2;
  private static final int FIXED = 4 + 8 + 1 + 16 + 16 + 8 + 4 + 4;
  static final int NONCE = 16;

  private final long seq;
  private final byte[] value; // null for a tombstone
  private final long millis;
  private final byte[] nonce;
  private final byte[] prev;

  LogEntry(long seq, Optional<byte[]> value, long millis, byte[] nonce, byte[] prev) {
    if (value.isPresent() && value.get().length > MAX_VALUE) {
      throw new IllegalArgumentException("a register value is at most 64 KiB");
    }
    this.seq = seq;
    this.value = value.map(byte[]::clone).orElse(null);
    this.millis = millis;
    this.nonce = nonce.clone();
    this.prev = prev.clone();
  }

  byte[] nonce() {
    return nonce.clone();
  }

  byte[] prev() {
    return prev.clone();
  }

  long seq() {
    return seq;
  }

  Optional<byte[]> value() {
    return value == null ? Optional.empty() : Optional.of(value.clone());
  }

  long millis() {
    return millis;
  }

  byte[] encode() {
    int len = value == null ? 0 : value.length;
    ByteBuffer b = ByteBuffer.allocate(FIXED + len);
    b.putInt(MAGIC).putLong(seq).put(value == null ? TOMBSTONE : VALUE).put(nonce).put(prev).putLong(millis).putInt(len);
    if (value != null) {
      b.put(value);
    }
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /** Parses an entry read from {@code key}; {@link ObjectStoreException} if it is damaged or foreign. */
  static LogEntry decode(String key, long expectedSeq, byte[] raw) {
    if (raw.length < FIXED || raw.length > FIXED + MAX_VALUE) {
      throw damaged(key, "is " + raw.length + " bytes long");
    }
    ByteBuffer b = ByteBuffer.wrap(raw);
    CRC32C crc = new CRC32C();
    crc.update(raw, 0, raw.length - 4);
    if ((int) crc.getValue() != b.getInt(raw.length - 4)) {
      throw damaged(key, "fails its CRC32C");
    }
    if (b.getInt() != MAGIC) {
      throw damaged(key, "does not start with CLG1");
    }
    long seq = b.getLong();
    byte kind = b.get();
    byte[] nonce = new byte[NONCE];
    byte[] prev = new byte[NONCE];
    b.get(nonce).get(prev);
    long millis = b.getLong();
    int len = b.getInt();
    if (seq != expectedSeq || (kind != VALUE && kind != TOMBSTONE) || len != raw.length - FIXED
        || (kind == TOMBSTONE && len != 0)) {
      throw damaged(key, "has inconsistent fields (seq " + seq + ", kind " + kind + ", length " + len + ")");
    }
    return new LogEntry(seq, kind == TOMBSTONE ? Optional.empty()
        : Optional.of(Arrays.copyOfRange(raw, b.position(), b.position() + len)), millis, nonce, prev);
  }

  private static ObjectStoreException damaged(String key, String why) {
    return new ObjectStoreException(ErrorCode.STORE_FORMAT, key, "log entry " + why, null);
  }
}
