package io.cairn.server.store;

import io.cairn.id.Tag;
import io.cairn.sign.ImageSignature;
import java.util.List;

/**
 * Publishers' signatures, stored per tag and key: each key holds at most one signature per tag,
 * the latest it stored. The store keeps what it is given; callers check a signature verifies
 * before {@link #put}, and hosts verify again against their own trust set.
 */
public interface SignatureStore {
  /**
   * Stores {@code s} under its tag and key id in one synced write, replacing that key's earlier
   * signature of the tag. Returns true when the key had none.
   */
  boolean put(ImageSignature s);

  /** The signatures stored for {@code tag}, in key id order. */
  List<Entry> list(Tag tag);

  /** A stored signature and when it was stored. */
  record Entry(ImageSignature signature, long storedMillis) {}
}
