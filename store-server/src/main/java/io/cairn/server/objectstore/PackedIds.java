package io.cairn.server.objectstore;

import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.id.Sha256Id;
import io.cairn.server.objects.ObjectStore;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The local location index of one kind of pack (block packs or page packs): id → where its bytes
 * are, built from the packs under {@code prefix} minus the {@link MutationLog}'s dead and
 * quarantined entries. A local cache only: everything in it is rebuilt from the bucket on open
 * ({@link #refresh}) and refreshed when a lookup misses, which is how one server sees packs another
 * server wrote. An id may sit in several packs (two servers stored it at once, or it was stored
 * again after a deletion); it is live while one of its locations is not dead. Thread-safe.
 *
 * @param <K> the id type
 * @param <L> a location inside a pack
 */
final class PackedIds<K extends Sha256Id, L> {
  /** Packs read at once while rebuilding: the gateway's latency, not its bandwidth, bounds a tail read. */
  static final int LOAD_THREADS = 8;

  /** One location of an id; {@code dead} flips with the log's DEAD/QUARANTINED and LIVE records. */
  private static final class Node<L> {
    final String pack;
    final L loc;
    final Node<L> next;
    volatile boolean dead;

    Node(String pack, L loc, Node<L> next, boolean dead) {
      this.pack = pack;
      this.loc = loc;
      this.next = next;
      this.dead = dead;
    }
  }

  private final ObjectStore store;
  private final String prefix;
  private final Function<String, List<Map.Entry<K, L>>> loader;
  private final Runnable pollLog;
  private final ConcurrentHashMap<K, Node<L>> byId = new ConcurrentHashMap<>();
  private final Set<String> packs = ConcurrentHashMap.newKeySet();
  /** Every (pack, id) the log says is dead now; applied to packs loaded later, too. */
  private final Map<String, Set<K>> deadByPack = new ConcurrentHashMap<>();
  private final Map<K, Sha256Id> quarantined = new ConcurrentHashMap<>();
  private final AtomicLong liveCount = new AtomicLong();
  private final Object refreshLock = new Object();
  private final AtomicLong refreshesStarted = new AtomicLong();
  private volatile long refreshCompleted;

  PackedIds(ObjectStore store, String prefix, Function<String, List<Map.Entry<K, L>>> loader, Runnable pollLog) {
    this.store = store;
    this.prefix = prefix;
    this.loader = loader;
    this.pollLog = pollLog;
  }

  /** The first live location, or null. */
  L get(K id) {
    for (Node<L> n = byId.get(id); n != null; n = n.next) {
      if (!n.dead) {
        return n.loc;
      }
    }
    return null;
  }

  boolean isLive(K id) {
    return get(id) != null;
  }

  /** Packs holding a live copy of {@code id}. */
  List<String> livePacks(K id) {
    List<String> out = new ArrayList<>();
    for (Node<L> n = byId.get(id); n != null; n = n.next) {
      if (!n.dead) {
        out.add(n.pack);
      }
    }
    return out;
  }

  /** What a quarantined id's bytes hashed to, when it is quarantined and has no live copy. */
  Optional<Sha256Id> quarantinedAs(K id) {
    Sha256Id a = quarantined.get(id);
    return a == null || isLive(id) ? Optional.empty() : Optional.of(a);
  }

  long liveCount() {
    return liveCount.get();
  }

  int packCount() {
    return packs.size();
  }

  void forEachLive(Consumer<K> visitor) {
    byId.forEach((id, n) -> {
      if (isLive(id)) {
        visitor.accept(id);
      }
    });
  }

  /**
   * Adds a pack this process has just stored. Returns the ids that the log had marked dead in this
   * very pack (a byte-identical pack stored again): the caller appends a LIVE record for them.
   */
  synchronized List<K> addStored(String pack, List<Map.Entry<K, L>> entries) {
    if (!packs.add(pack)) {
      Set<K> dead = deadByPack.getOrDefault(pack, Set.of());
      return entries.stream().map(Map.Entry::getKey).filter(dead::contains).toList();
    }
    addEntries(pack, entries);
    return List.of();
  }

  private synchronized void addEntries(String pack, List<Map.Entry<K, L>> entries) {
    Set<K> dead = deadByPack.getOrDefault(pack, Set.of());
    for (Map.Entry<K, L> e : entries) {
      K id = e.getKey();
      boolean wasLive = isLive(id);
      Node<L> head = byId.get(id);
      byId.put(id, new Node<>(pack, e.getValue(), head, dead.contains(id)));
      if (!wasLive && isLive(id)) {
        liveCount.incrementAndGet();
      }
    }
  }

  /** Applies one record of the mutation log (in log order). */
  synchronized void apply(MutationLog.Record r) {
    @SuppressWarnings("unchecked")
    List<K> ids = (List<K>) (List<?>) r.ids();
    Set<K> dead = deadByPack.computeIfAbsent(r.pack(), k -> new HashSet<>());
    for (int i = 0; i < ids.size(); i++) {
      K id = ids.get(i);
      boolean nowDead = r.kind() != MutationLog.Kind.LIVE;
      if (nowDead) {
        dead.add(id);
      } else {
        dead.remove(id);
      }
      if (r.kind() == MutationLog.Kind.QUARANTINED) {
        quarantined.put(id, r.actuals().get(i));
      }
      boolean wasLive = isLive(id);
      for (Node<L> n = byId.get(id); n != null; n = n.next) {
        if (n.pack.equals(r.pack())) {
          n.dead = nowDead;
        }
      }
      boolean live = isLive(id);
      if (wasLive != live) {
        liveCount.addAndGet(live ? 1 : -1);
      }
    }
  }

  /** Where a refresh that a caller needs must start after: take it before looking up. */
  long generation() {
    return refreshesStarted.get();
  }

  /**
   * Lists the packs and loads those not seen yet ({@link #LOAD_THREADS} at a time), then polls the
   * log; skipped when a refresh that started after {@code observed} has completed meanwhile, so
   * concurrent misses share one. Returns the number of packs loaded.
   */
  int refresh(long observed) {
    synchronized (refreshLock) {
      if (refreshCompleted > observed) {
        return 0;
      }
      long mine = refreshesStarted.incrementAndGet();
      List<String> fresh = new ArrayList<>();
      store.forEach(prefix, Optional.empty(), o -> {
        if (!packs.contains(o.key())) {
          fresh.add(o.key());
        }
      });
      load(fresh);
      pollLog.run();
      refreshCompleted = mine;
      return fresh.size();
    }
  }

  private void load(List<String> keys) {
    if (keys.isEmpty()) {
      return;
    }
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(LOAD_THREADS, keys.size()), r -> {
      Thread t = new Thread(r, "pack-index-load");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<List<Map.Entry<K, L>>>> futures = new ArrayList<>();
      for (String k : keys) {
        futures.add(pool.submit(() -> loader.apply(k)));
      }
      for (int i = 0; i < keys.size(); i++) {
        List<Map.Entry<K, L>> entries = futures.get(i).get();
        synchronized (this) {
          if (packs.add(keys.get(i))) {
            addEntries(keys.get(i), entries);
          }
        }
      }
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new StoreException(ErrorCode.INTERNAL, "cannot read a pack index: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(ErrorCode.UNAVAILABLE, "interrupted while reading pack indexes", e);
    } finally {
      pool.shutdownNow();
    }
  }
}
