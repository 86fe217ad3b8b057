package io.cairn.server.store;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.id.ImageDigest;
import io.cairn.id.Tag;
import io.cairn.server.store.SignatureStore.Entry;
import io.cairn.sign.ImageSignature;
import io.cairn.sign.VerifyingKey;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The stored form of one tag signature, the same bytes in every backend (docs/design.md, "Key
 * layout"): {@code 0x01 digest(32) key(32) signature(64) storedMillis(u64) tag(UTF-8)}.
 */
public final class SignatureRecord {
  private static final byte VERSION = 1;
  static final int FIXED = 1 + 32 + VerifyingKey.LENGTH + ImageSignature.LENGTH + 8;

  private SignatureRecord() {}

  public static byte[] encode(ImageSignature s, long millis) {
    byte[] tag = s.tag().toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(FIXED + tag.length);
    b.put(VERSION);
    s.digest().copyRawTo(b);
    b.put(s.key().toRaw()).put(s.signature()).putLong(millis).put(tag);
    return b.array();
  }

  public static Entry decode(byte[] v, Tag keyTag) {
    try {
      if (v.length < FIXED || v[0] != VERSION) {
        throw new IllegalArgumentException("length " + v.length + ", version " + (v.length > 0 ? v[0] : -1));
      }
      ByteBuffer b = ByteBuffer.wrap(v, 1, v.length - 1);
      ImageDigest digest = ImageDigest.fromRaw(b);
      byte[] key = new byte[VerifyingKey.LENGTH];
      byte[] sig = new byte[ImageSignature.LENGTH];
      b.get(key).get(sig);
      long millis = b.getLong();
      Tag tag = Tag.parse(new String(v, FIXED, v.length - FIXED, StandardCharsets.UTF_8));
      return new Entry(ImageSignature.of(tag, digest, VerifyingKey.fromRaw(key), sig), millis);
    } catch (IllegalArgumentException | CairnException e) { // InvalidIdException is an IllegalArgumentException
      throw new StoreException(ErrorCode.INTERNAL, "a stored signature of " + keyTag + " is damaged ("
          + e.getMessage() + "); re-sign the tag with 'cairn sign'", e);
    }
  }
}
