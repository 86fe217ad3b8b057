package io.cairn.id;

/** How a caller names an image: by a tag (mutable) or by a digest (immutable). */
public sealed interface ImageRef permits ImageRef.ByTag, ImageRef.ByDigest {

  /** Parses {@code sha256:<hex>} as a digest, anything else as {@code name[:tag]}. */
  static ImageRef parse(String s) {
    if (s != null && ImageDigest.looksLikeDigest(s)) {
      return new ByDigest(ImageDigest.parse(s));
    }
    return new ByTag(Tag.parse(s));
  }

  static ImageRef of(Tag tag) {
    return new ByTag(tag);
  }

  static ImageRef of(ImageDigest digest) {
    return new ByDigest(digest);
  }

  record ByTag(Tag tag) implements ImageRef {
    @Override
    public String toString() {
      return tag.toString();
    }
  }

  record ByDigest(ImageDigest digest) implements ImageRef {
    @Override
    public String toString() {
      return digest.toString();
    }
  }
}
