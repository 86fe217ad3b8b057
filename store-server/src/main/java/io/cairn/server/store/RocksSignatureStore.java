package io.cairn.server.store;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.id.ImageDigest;
import io.cairn.id.Tag;
import io.cairn.sign.ImageSignature;
import io.cairn.sign.VerifyingKey;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;

/**
 * {@link SignatureStore} over the {@code signatures} column family. Value: {@code u8 version=1 |
 * digest (32) | public key (32) | signature (64) | u64 storedMillis | tag (UTF-8, the rest)}. The
 * tag is repeated in the value so a record copied under another tag's key still says what it signed.
 */
final class RocksSignatureStore implements SignatureStore {
  private static final byte VERSION = 1;
  static final int FIXED = 1 + 32 + VerifyingKey.LENGTH + ImageSignature.LENGTH + 8;

  private final RocksBackend rocks;

  RocksSignatureStore(RocksBackend rocks) {
    this.rocks = rocks;
  }

  @Override
  public boolean put(ImageSignature s) {
    byte[] key = Keys.signature(s.tag(), s.keyId());
    boolean existed = rocks.get(rocks.signatures, key) != null;
    try (WriteBatch b = new WriteBatch()) {
      b.put(rocks.signatures, key, encode(s, System.currentTimeMillis()));
      // Synced: a publisher told "stored" must not find the signature gone after a power cut.
      rocks.write(b, rocks.synced);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("store a signature", e);
    }
    return !existed;
  }

  @Override
  public List<Entry> list(Tag tag) {
    List<Entry> out = new ArrayList<>();
    try (Slice upper = new Slice(Keys.signaturePrefixEnd(tag));
        ReadOptions ro = new ReadOptions().setIterateUpperBound(upper);
        RocksIterator it = rocks.db.newIterator(rocks.signatures, ro)) {
      for (it.seek(Keys.signaturePrefix(tag)); it.isValid(); it.next()) {
        out.add(decode(it.value(), tag));
      }
    }
    return out;
  }

  static byte[] encode(ImageSignature s, long millis) {
    byte[] tag = s.tag().toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(FIXED + tag.length);
    b.put(VERSION);
    s.digest().copyRawTo(b);
    b.put(s.key().toRaw()).put(s.signature()).putLong(millis).put(tag);
    return b.array();
  }

  private static Entry decode(byte[] v, Tag keyTag) {
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
