package io.cairn.server.objectstore;

import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.id.Sha256Id;
import io.cairn.server.objects.ObjectStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
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
    /** When a collection condemned this copy (its clock), 0 when not condemned. */
    volatile long condemnedAt;

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
  /** Every (pack, id) the log says is condemned now, with the condemnation's time. */
  private final Map<String, Map<K, Long>> condemnedByPack = new ConcurrentHashMap<>();
  /** The ids of each loaded pack, in pack order (what a repack walks). */
  private final Map<String, List<K>> members = new ConcurrentHashMap<>();
  /** Packs a repack replaced: forgotten, and never loaded again while a listing still shows them. */
  private final Set<String> retired = ConcurrentHashMap.newKeySet();
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
    Map<K, Long> condemned = condemnedByPack.getOrDefault(pack, Map.of());
    List<K> ids = new ArrayList<>(entries.size());
    for (Map.Entry<K, L> e : entries) {
      K id = e.getKey();
      ids.add(id);
      boolean wasLive = isLive(id);
      Node<L> head = byId.get(id);
      Node<L> node = new Node<>(pack, e.getValue(), head, dead.contains(id));
      node.condemnedAt = node.dead ? 0 : condemned.getOrDefault(id, 0L);
      byId.put(id, node);
      if (!wasLive && isLive(id)) {
        liveCount.incrementAndGet();
      }
    }
    members.put(pack, List.copyOf(ids));
  }

  /** Applies one record of the mutation log (in log order). */
  synchronized void apply(MutationLog.Record r) {
    if (r.kind() == MutationLog.Kind.RETIRED) {
      forget(r.pack());
      return;
    }
    @SuppressWarnings("unchecked")
    List<K> ids = (List<K>) (List<?>) r.ids();
    if (r.kind() == MutationLog.Kind.CONDEMNED) {
      Set<K> deadHere = deadByPack.getOrDefault(r.pack(), Set.of());
      Map<K, Long> c = condemnedByPack.computeIfAbsent(r.pack(), k -> new ConcurrentHashMap<>());
      for (K id : ids) {
        if (deadHere.contains(id)) {
          continue; // a condemnation of a copy already gone changes nothing
        }
        c.put(id, r.millis());
        for (Node<L> n = byId.get(id); n != null; n = n.next) {
          if (n.pack.equals(r.pack()) && !n.dead) {
            n.condemnedAt = r.millis();
          }
        }
      }
      return;
    }
    Set<K> dead = deadByPack.computeIfAbsent(r.pack(), k -> new HashSet<>());
    Map<K, Long> condemned = condemnedByPack.getOrDefault(r.pack(), new HashMap<>());
    for (int i = 0; i < ids.size(); i++) {
      K id = ids.get(i);
      boolean nowDead = r.kind() != MutationLog.Kind.LIVE;
      // Any of these ends a condemnation: LIVE revives the copy, the others kill it.
      condemned.remove(id);
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
          n.condemnedAt = 0;
        }
      }
      boolean live = isLive(id);
      if (wasLive != live) {
        liveCount.addAndGet(live ? 1 : -1);
      }
    }
  }

  /**
   * Drops every location in {@code pack} (a repack replaced it and is deleting it): its ids stay
   * known through their other copies. The pack is never loaded again, even while listed.
   */
  synchronized void forget(String pack) {
    retired.add(pack);
    packs.remove(pack);
    List<K> ids = members.remove(pack);
    deadByPack.remove(pack);
    condemnedByPack.remove(pack);
    if (ids == null) {
      return;
    }
    for (K id : new LinkedHashSet<>(ids)) {
      boolean wasLive = isLive(id);
      Node<L> kept = null;
      List<Node<L>> others = new ArrayList<>();
      for (Node<L> n = byId.get(id); n != null; n = n.next) {
        if (!n.pack.equals(pack)) {
          others.add(n);
        }
      }
      for (int i = others.size() - 1; i >= 0; i--) {
        Node<L> o = others.get(i);
        Node<L> copy = new Node<>(o.pack, o.loc, kept, o.dead);
        copy.condemnedAt = o.condemnedAt;
        kept = copy;
      }
      if (kept == null) {
        byId.remove(id);
      } else {
        byId.put(id, kept);
      }
      if (wasLive && !isLive(id)) {
        liveCount.decrementAndGet();
      }
    }
  }

  boolean isRetired(String pack) {
    return retired.contains(pack);
  }

  /** The loaded packs and their ids in pack order (retired packs excluded). */
  Map<String, List<K>> members() {
    return Map.copyOf(members);
  }

  /** One copy of an id: its pack, where it is there, and its state in the log. */
  record Copy<K, L>(K id, String pack, L loc, boolean dead, long condemnedAt) {}

  /** Every copy of {@code id}, newest first. */
  List<Copy<K, L>> copies(K id) {
    List<Copy<K, L>> out = new ArrayList<>();
    for (Node<L> n = byId.get(id); n != null; n = n.next) {
      out.add(new Copy<>(id, n.pack, n.loc, n.dead, n.condemnedAt));
    }
    return out;
  }

  /** Every condemned copy now, by pack: pack → (id → time condemned). */
  Map<String, Map<K, Long>> condemned() {
    Map<String, Map<K, Long>> out = new HashMap<>();
    condemnedByPack.forEach((pack, m) -> {
      if (!m.isEmpty()) {
        out.put(pack, new HashMap<>(m));
      }
    });
    return out;
  }

  /**
   * The condemned copies of those {@code ids} that have no copy which is neither dead nor
   * condemned, by pack: what a commit naming {@code ids} must revive.
   */
  Map<String, List<K>> condemnedOnly(java.util.Collection<K> ids) {
    Map<String, List<K>> out = new java.util.LinkedHashMap<>();
    for (K id : ids) {
      boolean free = false;
      List<String> condemnedIn = new ArrayList<>();
      for (Node<L> n = byId.get(id); n != null; n = n.next) {
        if (!n.dead && n.condemnedAt == 0) {
          free = true;
          break;
        }
        if (!n.dead) {
          condemnedIn.add(n.pack);
        }
      }
      if (!free) {
        for (String p : condemnedIn) {
          out.computeIfAbsent(p, k -> new ArrayList<>()).add(id);
        }
      }
    }
    return out;
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
        if (!packs.contains(o.key()) && !retired.contains(o.key())) {
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
        futures.add(pool.submit(() -> {
          try {
            return loader.apply(k);
          } catch (io.cairn.server.objects.ObjectNotFoundException gone) {
            return null; // deleted since the listing: a repack retired it (the log says so)
          }
        }));
      }
      for (int i = 0; i < keys.size(); i++) {
        List<Map.Entry<K, L>> entries = futures.get(i).get();
        if (entries == null) {
          continue;
        }
        synchronized (this) {
          if (!retired.contains(keys.get(i)) && packs.add(keys.get(i))) {
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
