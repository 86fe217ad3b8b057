package io.cairn.server.objectstore;

import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import io.cairn.id.Sha256Id;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.pack.PackIndex;
import io.cairn.server.pack.PackWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Garbage collection of a bucket store with several servers on it and no coordinator but the
 * bucket (docs/scale-out.md, "Garbage collection across servers"). One run:
 *
 * <ol>
 *   <li>refreshes the location indexes (every pack and log record), notes the time {@code M} and
 *       marks (the caller's {@link LiveSet}: every root's pages and blocks, every overlay's profile);
 *   <li>revives condemned copies of marked ids, and sweeps (DEAD) condemned copies stamped at or
 *       before {@code M - grace} that the mark did not reach;
 *   <li>condemns every other copy the mark did not reach (CONDEMNED, stamped with this clock);
 *   <li>repacks: a block pack whose dead or duplicate blocks exceed the threshold has its other
 *       blocks copied into new packs, then is retired in the log and deleted; a pack with nothing
 *       left, block or page pack, is retired and deleted without a copy.
 * </ol>
 *
 * Every log record is decided at the log position it lands at ({@link MutationLog#append(Supplier)}),
 * so runs on several servers at once, and commits reviving what they name, never act on a stale
 * state: a sweep kills only copies still condemned, a retirement happens only while every other
 * id of the pack still has a copy elsewhere.
 */
public final class BucketCollector {
  /** Repack a block pack when more than this share of its blocks is dead or duplicated. */
  public static final double DEFAULT_REPACK_DEAD = 0.5;

  /** What a mark reached. */
  public interface LiveSet {
    boolean block(BlockId id);

    boolean page(PageId id);
  }

  /**
   * What one run did. Counts are of copies (an id stored twice counts twice); {@code bytesReclaimed}
   * is the bytes of the packs deleted minus the bytes of the packs the repack wrote.
   */
  public record Result(long blocksCondemned, long pagesCondemned, long blocksSwept, long pagesSwept,
      long blocksRevived, long pagesRevived, long blocksCopied, long packsRewritten, long packsDeleted,
      long packBytesDeleted, long packBytesWritten, long condemnedWaiting) {
    public long bytesReclaimed() {
      return packBytesDeleted - packBytesWritten;
    }
  }

  private final ObjectStore store;
  private final MutationLog log;
  private final ObjectBlockStore blocks;
  private final ObjectIndexStore index;
  private final Duration deadline;
  private final long[] n = new long[11];
  private static final int CONDEMNED_B = 0;
  private static final int CONDEMNED_P = 1;
  private static final int SWEPT_B = 2;
  private static final int SWEPT_P = 3;
  private static final int REVIVED_B = 4;
  private static final int REVIVED_P = 5;
  private static final int COPIED = 6;
  private static final int REWRITTEN = 7;
  private static final int DELETED = 8;
  private static final int BYTES_DELETED = 9;
  private static final int BYTES_WRITTEN = 10;

  BucketCollector(ObjectStore store, MutationLog log, ObjectBlockStore blocks, ObjectIndexStore index,
      Duration deadline) {
    this.store = store;
    this.log = log;
    this.blocks = blocks;
    this.index = index;
    this.deadline = deadline;
  }

  /** The smallest grace this store accepts: three commit deadlines (docs/scale-out.md, the proof). */
  public Duration minimumGrace() {
    return deadline.multipliedBy(3);
  }

  /**
   * One collection; {@code mark} is called once, after the refresh and after {@code M} is taken.
   * {@code repackDead} in (0, 1]: 1 rewrites nothing but empty packs.
   */
  public Result run(Duration grace, double repackDead, Supplier<LiveSet> mark) {
    if (grace.compareTo(minimumGrace()) < 0) {
      throw new StoreException(ErrorCode.INPUT_INVALID, "on a bucket the grace must be at least 3 x the commit"
          + " deadline (" + deadline.toSeconds() + " s, " + CommitFence.DEADLINE_ENV + "): at least "
          + minimumGrace().toSeconds() + " s, got " + grace.toSeconds() + " s");
    }
    if (!(repackDead > 0 && repackDead <= 1)) {
      throw new StoreException(ErrorCode.INPUT_INVALID, "the repack threshold must be a share of dead blocks above 0"
          + " and at most 1, got " + repackDead);
    }
    // Uploads waiting in this server's open pack become packs like any other (touched when stored).
    blocks.flushOpen();
    // A copy this process has not loaded can be neither condemned nor repacked: know them all first.
    blocks.ids.refresh(blocks.ids.generation());
    index.ids.refresh(index.ids.generation());
    long markStart = System.currentTimeMillis();
    LiveSet live = mark.get();
    long cutoff = markStart - grace.toMillis();
    sweepOrRevive(blocks.ids, live::block, cutoff, SWEPT_B, REVIVED_B);
    sweepOrRevive(index.ids, live::page, cutoff, SWEPT_P, REVIVED_P);
    condemn(blocks.ids, live::block, grace, CONDEMNED_B);
    condemn(index.ids, live::page, grace, CONDEMNED_P);
    Map<String, Long> sizes = new HashMap<>();
    store.forEach(ObjectKeys.PACKS, Optional.empty(), o -> sizes.put(o.key(), o.size()));
    store.forEach(ObjectKeys.PAGES, Optional.empty(), o -> sizes.put(o.key(), o.size()));
    repackBlocks(repackDead, sizes);
    deleteEmpty(index.ids, sizes);
    long waiting = blocks.ids.condemned().values().stream().mapToLong(Map::size).sum()
        + index.ids.condemned().values().stream().mapToLong(Map::size).sum();
    return new Result(n[CONDEMNED_B], n[CONDEMNED_P], n[SWEPT_B], n[SWEPT_P], n[REVIVED_B], n[REVIVED_P], n[COPIED],
        n[REWRITTEN], n[DELETED], n[BYTES_DELETED], n[BYTES_WRITTEN], waiting);
  }

  private <K extends Sha256Id> void sweepOrRevive(PackedIds<K, ?> ids, Predicate<K> live, long cutoff, int swept,
      int revived) {
    for (Map.Entry<String, Map<K, Long>> e : new TreeMap<>(ids.condemned()).entrySet()) {
      String pack = e.getKey();
      // Both decided again where the record lands: a commit may have revived, another run swept.
      log.append(() -> Optional.of(record(MutationLog.Kind.LIVE, pack,
          stillCondemned(ids, pack, e.getValue().keySet(), id -> live.test(id), Long.MAX_VALUE))))
          .ifPresent(r -> n[revived] += r.ids().size());
      log.append(() -> Optional.of(record(MutationLog.Kind.DEAD, pack,
          stillCondemned(ids, pack, e.getValue().keySet(), id -> !live.test(id), cutoff))))
          .ifPresent(r -> n[swept] += r.ids().size());
    }
  }

  /** Of {@code candidates}, those whose copy in {@code pack} is condemned now, at or before {@code cutoff}. */
  private static <K extends Sha256Id> List<Sha256Id> stillCondemned(PackedIds<K, ?> ids, String pack,
      Iterable<K> candidates, Predicate<K> wanted, long cutoff) {
    List<Sha256Id> out = new ArrayList<>();
    for (K id : candidates) {
      if (!wanted.test(id)) {
        continue;
      }
      for (PackedIds.Copy<K, ?> c : ids.copies(id)) {
        if (c.pack().equals(pack) && !c.dead() && c.condemnedAt() != 0 && c.condemnedAt() <= cutoff) {
          out.add(id);
          break;
        }
      }
    }
    return out;
  }

  private static MutationLog.Record record(MutationLog.Kind kind, String pack, List<Sha256Id> ids) {
    return new MutationLog.Record(kind, pack, ids, List.of());
  }

  private <K extends Sha256Id> void condemn(PackedIds<K, ?> ids, Predicate<K> live, Duration grace, int counter) {
    for (Map.Entry<String, List<K>> e : new TreeMap<>(ids.members()).entrySet()) {
      String pack = e.getKey();
      long[] stamp = {0};
      Optional<MutationLog.Record> done = log.append(() -> {
        List<Sha256Id> doomed = new ArrayList<>();
        for (K id : e.getValue()) {
          if (live.test(id)) {
            continue;
          }
          for (PackedIds.Copy<K, ?> c : ids.copies(id)) {
            if (c.pack().equals(pack) && !c.dead() && c.condemnedAt() == 0) {
              doomed.add(id);
              break;
            }
          }
        }
        // Stamped at each attempt, just before its PUT: the proof needs the stamp close to when
        // the record became visible.
        stamp[0] = System.currentTimeMillis();
        return Optional.of(new MutationLog.Record(MutationLog.Kind.CONDEMNED, pack, doomed, List.of(), stamp[0]));
      });
      if (done.isEmpty()) {
        continue;
      }
      if (System.currentTimeMillis() - stamp[0] > grace.toMillis() / 3) {
        // The record took too long to land (a pause, a slow gateway): the proof's margin is gone,
        // so withdraw it; the next run condemns again.
        log.append(() -> Optional.of(record(MutationLog.Kind.LIVE, pack, stillCondemned(ids, pack,
            idsOf(done.get()), id -> true, Long.MAX_VALUE))));
        continue;
      }
      n[counter] += done.get().ids().size();
    }
  }

  @SuppressWarnings("unchecked")
  private static <K extends Sha256Id> List<K> idsOf(MutationLog.Record r) {
    return (List<K>) (List<?>) r.ids();
  }

  /**
   * Whether the copy of {@code id} in {@code pack} can go without losing {@code id}: it is dead, or
   * another copy outranks it (a copy that is not condemned outranks a condemned one; then the
   * smaller pack key wins), so of duplicates exactly one is kept.
   */
  private static <K extends Sha256Id> boolean droppable(PackedIds<K, ?> ids, K id, String pack) {
    return droppable(ids, id, pack, true);
  }

  /**
   * With {@code byKey} false, any other copy at least as free will do: what retiring a pack needs,
   * decided in log order, so of two packs holding the only two copies the second is refused.
   */
  private static <K extends Sha256Id> boolean droppable(PackedIds<K, ?> ids, K id, String pack, boolean byKey) {
    PackedIds.Copy<K, ?> mine = null;
    for (PackedIds.Copy<K, ?> c : ids.copies(id)) {
      if (c.pack().equals(pack)) {
        mine = c;
      }
    }
    if (mine == null || mine.dead()) {
      return true;
    }
    for (PackedIds.Copy<K, ?> c : ids.copies(id)) {
      if (c.pack().equals(pack) || c.dead()) {
        continue;
      }
      boolean freeOther = c.condemnedAt() == 0;
      boolean freeMine = mine.condemnedAt() == 0;
      if ((freeOther && !freeMine) || (freeOther == freeMine && (!byKey || c.pack().compareTo(pack) < 0))) {
        return true;
      }
    }
    return false;
  }

  private void repackBlocks(double repackDead, Map<String, Long> sizes) {
    PackWriter.Options options = blocks.packOptions();
    int bs = blocks.blockSize().bytes();
    long groupLimit = options.targetBytes();
    List<String> group = new ArrayList<>();
    List<PackIndex> written = new ArrayList<>();
    PackWriter writer = null;
    long groupBytes = 0;
    try {
      for (Map.Entry<String, List<BlockId>> e : new TreeMap<>(blocks.ids.members()).entrySet()) {
        String pack = e.getKey();
        List<BlockId> keep = new ArrayList<>();
        for (BlockId id : e.getValue()) {
          if (!droppable(blocks.ids, id, pack)) {
            keep.add(id);
          }
        }
        double dead = 1 - (double) keep.size() / Math.max(1, e.getValue().size());
        if (!keep.isEmpty() && dead <= repackDead) {
          continue;
        }
        if (!keep.isEmpty()) {
          if (writer == null) {
            writer = new PackWriter(store, options, index -> {
              blocks.stored(index);
              written.add(index);
            });
          }
          copy(pack, keep, writer, bs);
          n[COPIED] += keep.size();
          n[REWRITTEN]++;
        }
        group.add(pack);
        groupBytes += (long) keep.size() * bs;
        if (groupBytes >= groupLimit) {
          // Bounded extra space: the new packs of one group (one pack's worth of blocks) exist
          // beside the old ones only until the group's old packs are deleted here.
          if (writer != null) {
            writer.flush();
          }
          retireAll(blocks.ids, group, sizes);
          group.clear();
          groupBytes = 0;
        }
      }
      if (writer != null) {
        writer.flush();
      }
      retireAll(blocks.ids, group, sizes);
    } finally {
      if (writer != null) {
        writer.close();
      }
    }
    for (PackIndex w : written) {
      n[BYTES_WRITTEN] += w.packBytes();
    }
  }

  private void copy(String pack, List<BlockId> keep, PackWriter writer, int bs) {
    int batch = 256;
    for (int from = 0; from < keep.size(); from += batch) {
      List<BlockId> part = keep.subList(from, Math.min(keep.size(), from + batch));
      List<PackIndex.Entry> entries = new ArrayList<>(part.size());
      PackIndex index = null;
      for (BlockId id : part) {
        for (PackedIds.Copy<BlockId, ObjectBlockStore.Loc> c : blocks.ids.copies(id)) {
          if (c.pack().equals(pack)) {
            index = c.loc().pack();
            entries.add(c.loc().entry());
            break;
          }
        }
      }
      byte[] buf = new byte[entries.size() * bs];
      // Re-hashes every block on the way: a repack never copies a corrupt block into a new pack.
      new io.cairn.server.pack.PackReader(store).read(index, entries, buf, 0);
      for (int i = 0; i < entries.size(); i++) {
        writer.add(entries.get(i).id(), buf, i * bs);
      }
    }
  }

  private void deleteEmpty(PackedIds<PageId, ?> ids, Map<String, Long> sizes) {
    List<String> empty = new ArrayList<>();
    for (Map.Entry<String, List<PageId>> e : new TreeMap<>(ids.members()).entrySet()) {
      if (e.getValue().stream().allMatch(id -> droppable(ids, id, e.getKey()))) {
        empty.add(e.getKey());
      }
    }
    retireAll(ids, empty, sizes);
  }

  /**
   * Retires each pack (a RETIRED record, decided at its log position: only while every one of its
   * ids can go, i.e. has a copy elsewhere or none worth keeping), then deletes it. Readers that still
   * point at it meet a missing object, refresh, and find the new copies.
   */
  private <K extends Sha256Id> void retireAll(PackedIds<K, ?> ids, List<String> packs, Map<String, Long> sizes) {
    for (String pack : packs) {
      List<K> members = ids.members().getOrDefault(pack, List.of());
      Optional<MutationLog.Record> r = log.append(() -> members.stream().allMatch(id -> droppable(ids, id, pack, false))
          ? Optional.of(new MutationLog.Record(MutationLog.Kind.RETIRED, pack, List.of(), List.of()))
          : Optional.empty());
      if (r.isEmpty()) {
        continue; // something changed under us (a commit revived a copy, another run retired the twin): keep it
      }
      store.delete(pack);
      n[DELETED]++;
      n[BYTES_DELETED] += sizes.getOrDefault(pack, 0L);
    }
  }
}
