package io.cairn.server.objectstore;

import io.cairn.id.ImageDigest;
import io.cairn.id.ImageName;
import io.cairn.id.Tag;
import io.cairn.sign.KeyId;
import java.util.Optional;

/**
 * The key grammar of a Cairn bucket (format 1), in one place; docs/scale-out.md gives it with the
 * byte grammar of every object. Tag and signature registers are directories named so that no
 * register's prefix is a prefix of another's: an image name's '/' becomes '~' (not in the name
 * grammar) and ':' separates the tag (which has neither '/' nor ':').
 */
final class ObjectKeys {
  static final String FORMAT = "format";
  static final String PACKS = io.cairn.server.pack.PackWriter.PREFIX;
  static final String PAGES = "pages/";
  static final String ROOTS = "roots/";
  static final String TAGS = "tags/";
  static final String SIGNATURES = "signatures/";
  static final String LOG = "log/";
  /** {@code owners/<digest hex>/<user>}: one owner of a private snapshot; 8-byte big-endian bytes charged. */
  static final String OWNERS = "owners/";

  private ObjectKeys() {}

  static String ownersOf(ImageDigest d) {
    return OWNERS + d.toHex() + "/";
  }

  static String root(ImageDigest d) {
    return ROOTS + d.toHex();
  }

  static String tagPart(Tag t) {
    return t.name().value().replace('/', '~') + ":" + t.tag();
  }

  /** The tag register's directory, {@code tags/<name with / as ~>:<tag>/}. */
  static String tagDir(Tag t) {
    return TAGS + tagPart(t) + "/";
  }

  /** The tag a register directory (or a key inside it) belongs to, or empty if the key is not one. */
  static Optional<Tag> tagOf(String key, String prefix) {
    if (!key.startsWith(prefix)) {
      return Optional.empty();
    }
    int slash = key.indexOf('/', prefix.length());
    if (slash < 0) {
      return Optional.empty();
    }
    String part = key.substring(prefix.length(), slash);
    int colon = part.lastIndexOf(':');
    if (colon < 0) {
      return Optional.empty();
    }
    try {
      return Optional.of(Tag.of(ImageName.of(part.substring(0, colon).replace('~', '/')), part.substring(colon + 1)));
    } catch (RuntimeException notATag) {
      return Optional.empty();
    }
  }

  /** All signature registers of a tag live under {@code signatures/<tagPart>/}. */
  static String signaturesOf(Tag t) {
    return SIGNATURES + tagPart(t) + "/";
  }

  /** One key's signature register of a tag: {@code signatures/<tagPart>/<key id hex>/}. */
  static String signatureDir(Tag t, KeyId key) {
    return signaturesOf(t) + key.toHex() + "/";
  }
}
