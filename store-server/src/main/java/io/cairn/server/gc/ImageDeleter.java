package io.cairn.server.gc;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.ImageDigest;
import io.cairn.server.store.IndexStore;
import io.cairn.server.store.OverlayRecord;
import io.cairn.server.store.OverlayStore;
import io.cairn.server.store.Store;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Deletes image versions. A version is held, and cannot be deleted, while a tag points at it or an
 * overlay uses it as its base; deleting it makes its pages and blocks reclaimable by the next
 * garbage collection (where no other version shares them).
 */
public final class ImageDeleter {
  private final Store store;

  public ImageDeleter(Store store) {
    this.store = store;
  }

  /** Tags and overlays that keep a version alive. */
  public record Holders(List<String> tags, List<String> overlays) {
    public boolean none() {
      return tags.isEmpty() && overlays.isEmpty();
    }

    @Override
    public String toString() {
      return (tags.isEmpty() ? "" : "tags " + String.join(", ", tags))
          + (tags.isEmpty() || overlays.isEmpty() ? "" : "; ")
          + (overlays.isEmpty() ? "" : "overlays " + String.join(", ", overlays));
    }
  }

  public Holders holders(ImageDigest digest) {
    List<String> tags = store.index().tags().stream().filter(t -> t.digest().equals(digest))
        .map(t -> t.tag().toString()).toList();
    List<String> overlays;
    try (OverlayStore.View v = store.overlays().view()) {
      overlays = v.list(Optional.empty()).stream().filter(o -> o.base().equals(digest))
          .map(o -> o.owner() + "/" + o.name()).toList();
    }
    return new Holders(tags, overlays);
  }

  /** Every stored version and what holds it. */
  public Map<ImageDigest, Holders> all() {
    Map<ImageDigest, Holders> out = new LinkedHashMap<>();
    Map<ImageDigest, List<String>> tags = new LinkedHashMap<>();
    for (IndexStore.TagEntry t : store.index().tags()) {
      tags.computeIfAbsent(t.digest(), d -> new java.util.ArrayList<>()).add(t.tag().toString());
    }
    Map<ImageDigest, List<String>> overlays = new LinkedHashMap<>();
    try (OverlayStore.View v = store.overlays().view()) {
      for (OverlayRecord o : v.list(Optional.empty())) {
        overlays.computeIfAbsent(o.base(), d -> new java.util.ArrayList<>()).add(o.owner() + "/" + o.name());
      }
    }
    for (ImageDigest d : store.index().images()) {
      out.put(d, new Holders(tags.getOrDefault(d, List.of()), overlays.getOrDefault(d, List.of())));
    }
    return out;
  }

  /**
   * Deletes the version, or fails with {@link ErrorCode#CONFLICT} naming what holds it. Serialized
   * with overlay creation (same monitor), so no overlay can be created on a version being deleted.
   */
  public void delete(ImageDigest digest) {
    if (store.index().root(digest).isEmpty()) {
      throw new io.cairn.error.ImageUnknownException(digest);
    }
    synchronized (store.overlays()) {
      Holders h = holders(digest);
      if (!h.none()) {
        throw new HeldException(digest, h);
      }
      store.index().deleteImage(digest);
    }
  }

  /** 409: the version is still in use. */
  public static final class HeldException extends CairnException {
    private final transient Holders holders;

    HeldException(ImageDigest digest, Holders holders) {
      super(ErrorCode.CONFLICT, "image " + digest + " is still held by " + holders
          + "; remove those tags and overlays first");
      this.holders = holders;
    }

    @Override
    public Object detail() {
      return Map.of("tags", holders.tags(), "overlays", holders.overlays());
    }
  }
}
