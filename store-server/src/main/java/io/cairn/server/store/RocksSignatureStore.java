package io.cairn.server.store;

import io.cairn.id.Tag;
import io.cairn.sign.ImageSignature;
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

  private final RocksBackend rocks;

  RocksSignatureStore(RocksBackend rocks) {
    this.rocks = rocks;
  }

  @Override
  public boolean put(ImageSignature s) {
    byte[] key = Keys.signature(s.tag(), s.keyId());
    boolean existed = rocks.get(rocks.signatures, key) != null;
    try (WriteBatch b = new WriteBatch()) {
      b.put(rocks.signatures, key, SignatureRecord.encode(s, System.currentTimeMillis()));
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
        out.add(SignatureRecord.decode(it.value(), tag));
      }
    }
    return out;
  }
}
