package io.cairn.server.nbd;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.server.auth.Principal;
import io.cairn.server.diskcache.DiskCache;
import io.cairn.server.image.Images;
import io.cairn.server.overlay.Overlays;
import io.cairn.server.store.GcGuard;
import io.cairn.server.store.IndexStore;
import io.cairn.server.store.OverlayRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Export names and who may open what. {@code image/REF} (a tag such as {@code debian-12:latest} or
 * a digest {@code sha256:...}) is read-only and open to every authenticated user, and to anonymous
 * clients only with {@code --anonymous-read}; {@code overlay/NAME} is the peer's own overlay and
 * needs a client certificate. Nothing else is served.
 */
final class Exports {
  static final String IMAGE_PREFIX = "image/";
  static final String OVERLAY_PREFIX = "overlay/";

  private final Images images;
  private final Overlays overlays;
  private final GcGuard gc;
  private final boolean anonymousRead;
  private final DiskCache cache;

  Exports(Images images, Overlays overlays, DiskCache cache, boolean anonymousRead) {
    this.images = images;
    this.cache = cache;
    this.overlays = overlays;
    this.gc = images.store().gcGuard();
    this.anonymousRead = anonymousRead;
  }

  /** An option refused with an NBD_REP_ERR_* code and a message the client shows. */
  static final class Refusal extends Exception {
    final int reply;

    Refusal(int reply, String message) {
      super(message);
      this.reply = reply;
    }
  }

  /** Opens {@code name} for {@code peer}; {@code tls} says whether the connection is encrypted. */
  Export open(String name, ClientCertificates.Peer who, boolean tls) throws Refusal {
    Optional<Principal> peer = who.principal();
    String why = who.why().isEmpty() ? "" : " (" + who.why() + ")";
    try {
      if (name.startsWith(IMAGE_PREFIX)) {
        if (peer.isEmpty() && !anonymousRead) {
          throw new Refusal(tls ? Nbd.REP_ERR_POLICY : Nbd.REP_ERR_TLS_REQD, "reading " + name
              + " needs a client certificate (the server does not allow anonymous reads)" + why);
        }
        ImageRef ref = ImageRef.parse(name.substring(IMAGE_PREFIX.length()));
        return new ImageExport(name, images, images.root(ref), cache);
      }
      if (name.startsWith(OVERLAY_PREFIX)) {
        if (peer.isEmpty()) {
          throw new Refusal(tls ? Nbd.REP_ERR_POLICY : Nbd.REP_ERR_TLS_REQD, "overlay exports need TLS with a"
              + " client certificate whose CN is the overlay's owner" + why);
        }
        OverlayName overlay = OverlayName.of(name.substring(OVERLAY_PREFIX.length()));
        return new OverlayExport(name, overlays, gc, peer.get().name(), overlay);
      }
    } catch (CairnException e) {
      // Unknown and malformed names answer alike: a user learns nothing of others' overlays.
      if (e.code() == ErrorCode.OVERLAY_UNKNOWN || e.code() == ErrorCode.IMAGE_UNKNOWN || e.code().httpStatus() == 400) {
        throw new Refusal(Nbd.REP_ERR_UNKNOWN, "no export " + name + ": " + e.getMessage());
      }
      throw e;
    }
    throw new Refusal(Nbd.REP_ERR_UNKNOWN, "no export " + name + "; exports are image/NAME:TAG, image/sha256:DIGEST"
        + " and overlay/NAME");
  }

  /** The exports {@code peer} may open (NBD_OPT_LIST): every tagged image, and the peer's overlays. */
  List<String> list(Optional<Principal> peer) {
    List<String> out = new ArrayList<>();
    if (peer.isPresent() || anonymousRead) {
      for (IndexStore.TagEntry t : images.store().index().tags()) {
        out.add(IMAGE_PREFIX + t.tag());
      }
    }
    if (peer.isPresent()) {
      for (OverlayRecord r : overlays.list(Optional.of(peer.get().name()))) {
        out.add(OVERLAY_PREFIX + r.name());
      }
    }
    return out;
  }
}
