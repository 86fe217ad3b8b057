package io.cairn.fuse;

import io.cairn.client.CairnClient;
import io.cairn.client.ImageInfo;
import io.cairn.error.CairnException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The mount's current {@link Tree}, refreshed from the server when a lookup finds it older than
 * {@link #REFRESH} (5 s): new tags and overlays appear without remounting, at the cost of at most
 * one listing request per 5 s, and none while nobody looks. One thread refreshes while the others
 * keep using the old tree; if the server does not answer, the old tree stays.
 */
final class Catalog {
  static final Duration REFRESH = Duration.ofSeconds(5);

  private final CairnClient client;
  private final Supplier<List<OverlayEntry>> overlays;
  private final EventLog log;
  private final ServerHealth health;
  private final ReentrantLock refreshing = new ReentrantLock();
  private volatile Tree tree;
  private volatile long lastAttemptNanos;

  private final java.util.function.UnaryOperator<List<ImageInfo>> filter;

  /** {@code filter} decides which listed images the mount shows (all of them, or only trusted ones). */
  Catalog(CairnClient client, Supplier<List<OverlayEntry>> overlays, EventLog log, ServerHealth health,
      java.util.function.UnaryOperator<List<ImageInfo>> filter) {
    this.filter = filter;
    this.client = client;
    this.overlays = overlays;
    this.log = log;
    this.health = health;
  }

  /** Lists the server now; fails if it cannot (the mount does not start without a first listing). */
  Tree load() {
    refreshing.lock();
    try {
      lastAttemptNanos = System.nanoTime();
      tree = Tree.build(filter.apply(client.images()), overlays.get(), Optional.ofNullable(tree),
          System.currentTimeMillis());
      return tree;
    } finally {
      refreshing.unlock();
    }
  }

  /** The tree, refreshed first if it is older than 5 s and no other thread is refreshing it. */
  Tree current() {
    if (System.nanoTime() - lastAttemptNanos > REFRESH.toNanos() && refreshing.tryLock()) {
      try {
        if (System.nanoTime() - lastAttemptNanos > REFRESH.toNanos()) {
          refresh();
        }
      } finally {
        refreshing.unlock();
      }
    }
    return tree;
  }

  private void refresh() {
    lastAttemptNanos = System.nanoTime();
    Tree old = tree;
    List<ImageInfo> images;
    List<OverlayEntry> ovl;
    try {
      images = filter.apply(client.images());
      ovl = overlays.get();
    } catch (CairnException e) {
      health.failed(e);
      log.error("refresh", "refresh failed, keeping the listing from before: " + e.getMessage());
      return;
    }
    health.answered();
    Tree next = Tree.build(images, ovl, Optional.of(old), System.currentTimeMillis());
    tree = next;
    logChanges(old, next);
  }

  private void logChanges(Tree old, Tree next) {
    Map<String, Tree.ImageFile> before = old.images();
    Map<String, Tree.ImageFile> after = next.images();
    int added = 0;
    int removed = 0;
    for (Map.Entry<String, Tree.ImageFile> e : after.entrySet()) {
      Tree.ImageFile was = before.get(e.getKey());
      if (was == null) {
        added++;
      } else if (!was.digest().equals(e.getValue().digest())) {
        log.event("refresh", "tag " + e.getValue().tag() + " moved " + was.digest().abbreviate() + " -> "
            + e.getValue().digest().abbreviate() + "; new opens of " + e.getKey().substring(1) + " read the new version");
      }
    }
    for (String p : before.keySet()) {
      if (!after.containsKey(p)) {
        removed++;
      }
    }
    if (added > 0 || removed > 0 || old.overlayFiles() != next.overlayFiles()) {
      log.event("refresh", after.size() + " image files (" + added + " new, " + removed + " gone), "
          + next.overlayFiles() + " overlays");
    }
  }
}
