package io.cairn.server.store;

import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.OverlayName;
import io.cairn.id.UserName;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.SortedMap;

/**
 * Overlay records and their profiles (block number → block id for the blocks that differ from the
 * base). Callers serialize changes to one overlay; every change is one synced atomic write.
 */
public interface OverlayStore {
  /** A consistent point-in-time view: a long read never sees half of a later write. */
  View view();

  /** Creates an overlay (synced); {@link io.cairn.error.ErrorCode#CONFLICT} when the owner has one of that name. */
  OverlayRecord create(UserName owner, OverlayName name, ImageDigest base, long size, long baseBlocks);

  /**
   * Applies {@code change} to the profile and stores {@code updated} in one synced write: after a
   * crash either all of it is there or none. Blocks it names must have been handed to the block
   * store first (the synced write also makes those earlier logged writes durable). Returns the
   * record stored: {@code updated}, or, on a store that several servers write (a bucket), the
   * change applied on top of a newer version another server committed meanwhile (then with the
   * generation after that version's).
   */
  OverlayRecord commit(OverlayRecord updated, ProfileChange change);

  /**
   * {@link #commit} without the sync: atomic and in the log, so it survives a kill -9 of the
   * process, but a power cut may lose it (whole, never half) until the next {@link #sync}. For
   * writers whose protocol promises durability only at a flush (NBD). A store whose every commit
   * is durable anyway (a bucket) commits as {@link #commit} does.
   */
  default OverlayRecord commitLogged(OverlayRecord updated, ProfileChange change) {
    return commit(updated, change);
  }

  /** Makes every earlier {@link #commitLogged} (of any overlay, on any thread) durable. */
  default void sync() {}

  /** Removes the overlay and its profile. */
  void delete(OverlayRecord overlay);

  /**
   * A profile edit. {@code clearFrom}: drop every entry with a block number at or past it first
   * (0 for a reset, the new block count for a shrink, {@link Long#MAX_VALUE} for none); then
   * {@code set} (block number → id, {@link BlockId#ZERO} for a block zeroed over a non-zero base)
   * and {@code unset} (blocks back to the base's content).
   */
  record ProfileChange(long clearFrom, SortedMap<Long, BlockId> set, List<Long> unset) {
    public static ProfileChange none() {
      return new ProfileChange(Long.MAX_VALUE, new java.util.TreeMap<>(), List.of());
    }
  }

  /** How many overlays there are and the bytes (keys plus values) their records and profiles take. */
  record Totals(long overlays, long bytes) {}

  Totals totals();

  /** How many overlays there are (reads the records only, not the profiles). */
  long count();

  /** Reads under one RocksDB snapshot. */
  interface View extends AutoCloseable {
    Optional<OverlayRecord> get(UserName owner, OverlayName name);

    /** Overlays of {@code owner}, or of everybody, in owner then name order. */
    List<OverlayRecord> list(Optional<UserName> owner);

    /** Profile entries with {@code from <= block < to}, in block order. */
    NavigableMap<Long, BlockId> profile(long overlayId, long from, long to);

    /** Calls {@code visitor} for every profile entry of the overlay, in block order, without holding them all. */
    void forEachEntry(long overlayId, java.util.function.ObjLongConsumer<BlockId> visitor);

    @Override
    void close();
  }
}
