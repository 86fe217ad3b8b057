package io.cairn.server.store;

import io.cairn.id.ImageDigest;
import io.cairn.id.OverlayName;
import io.cairn.id.UserName;
import java.nio.ByteBuffer;

/**
 * A user's overlay as stored: an internal id that prefixes its profile keys (never reused), the base
 * image version it is pinned to, its virtual size, and a generation that every change bumps (part of
 * the overlay's ETag), and how many profile entries hold data (what a quota counts). 81 bytes plus the
 * key: creating an overlay copies nothing of its base.
 */
public record OverlayRecord(long id, UserName owner, OverlayName name, ImageDigest base, long size,
    long visibleBaseBlocks, long generation, long createdMillis, long dataBlocks) {
  private static final byte VERSION = 1;
  static final int ENCODED_LENGTH = 1 + 8 + 32 + 8 + 8 + 8 + 8 + 8;

  /**
   * The same overlay after a change: new size, how many leading base blocks still show through
   * (a shrink hides the rest for good, so growing again reads zeros), and the next generation.
   */
  public OverlayRecord next(long newSize, long newVisibleBaseBlocks, long newDataBlocks) {
    return new OverlayRecord(id, owner, name, base, newSize, newVisibleBaseBlocks, generation + 1, createdMillis,
        newDataBlocks);
  }

  byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(ENCODED_LENGTH);
    b.put(VERSION).putLong(id);
    base.copyRawTo(b);
    b.putLong(size).putLong(visibleBaseBlocks).putLong(generation).putLong(createdMillis).putLong(dataBlocks);
    return b.array();
  }

  static OverlayRecord decode(UserName owner, OverlayName name, byte[] v) {
    ByteBuffer b = ByteBuffer.wrap(v);
    if (v.length != ENCODED_LENGTH || b.get() != VERSION) {
      throw new IllegalStateException("overlay record of " + owner + "/" + name + " has an unknown format");
    }
    long id = b.getLong();
    ImageDigest base = ImageDigest.fromRaw(b);
    return new OverlayRecord(id, owner, name, base, b.getLong(), b.getLong(), b.getLong(), b.getLong(), b.getLong());
  }
}
