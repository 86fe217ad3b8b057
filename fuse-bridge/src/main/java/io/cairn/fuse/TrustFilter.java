package io.cairn.fuse;

import io.cairn.client.CairnClient;
import io.cairn.client.ImageInfo;
import io.cairn.error.CairnException;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.sign.TrustSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * With a trust set, the mount shows only tags whose current digest carries a valid signature from
 * a trusted key (the same rule as {@code cairn pull --trust}); everything else is hidden and logged
 * once. Results are remembered per tag and digest, so a refresh checks only new or moved tags.
 */
final class TrustFilter {
  private final CairnClient client;
  private final TrustSet trust;
  private final EventLog log;
  private final Map<String, Boolean> verdicts = new ConcurrentHashMap<>();

  TrustFilter(CairnClient client, TrustSet trust, EventLog log) {
    this.client = client;
    this.trust = trust;
    this.log = log;
  }

  List<ImageInfo> apply(List<ImageInfo> images) {
    List<ImageInfo> out = new ArrayList<>(images.size());
    for (ImageInfo i : images) {
      List<Tag> kept = i.tags().stream().filter(t -> trusted(t, i.digest())).toList();
      if (!kept.isEmpty()) {
        out.add(new ImageInfo(i.digest(), i.size(), i.blockSize(), i.blocks(), i.pages(), kept));
      }
    }
    return out;
  }

  private boolean trusted(Tag tag, ImageDigest digest) {
    return verdicts.computeIfAbsent(tag + "@" + digest, k -> {
      try {
        ImageDigest verified = client.verifiedDigest(ImageRef.of(tag), trust);
        if (verified.equals(digest)) {
          return true;
        }
        log.event("trust", "hiding " + tag + ": it moved while being checked; the next refresh checks it again");
        return false;
      } catch (CairnException e) {
        log.error("trust", "hiding " + tag + " (" + digest.abbreviate() + "): " + e.getMessage());
        return false;
      }
    });
  }
}
