package io.cairn.sign;

import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import io.cairn.error.SignatureException;
import io.cairn.id.ImageDigest;
import io.cairn.id.Tag;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The verifying keys a host accepts. With a trust set, an image is accepted only when a signature
 * by one of these keys is valid for the digest actually fetched and the tag it was named by. A
 * key is trusted by its full 32 bytes, not by its id, so a key that merely shares an id is not.
 */
public final class TrustSet {
  private final Map<KeyId, VerifyingKey> keys;

  private TrustSet(Map<KeyId, VerifyingKey> keys) {
    this.keys = Collections.unmodifiableMap(keys);
  }

  public static TrustSet of(Collection<VerifyingKey> keys) {
    Map<KeyId, VerifyingKey> m = new TreeMap<>();
    for (VerifyingKey k : keys) {
      m.put(k.id(), k);
    }
    return new TrustSet(m);
  }

  /** Reads each file with {@link KeyFiles#readVerifyingKey} (a .pub file, or a private key file's public half). */
  public static TrustSet load(Collection<Path> files) throws IOException {
    List<VerifyingKey> ks = new ArrayList<>();
    for (Path f : files) {
      ks.add(KeyFiles.readVerifyingKey(f));
    }
    return of(ks);
  }

  /** The paths of a colon-separated list such as {@code CAIRN_TRUST}; empty elements are skipped. */
  public static List<Path> parsePathList(String value) {
    List<Path> out = new ArrayList<>();
    if (value == null) {
      return out;
    }
    for (String p : value.split(":")) {
      if (!p.isBlank()) {
        out.add(Path.of(p.strip()));
      }
    }
    return out;
  }

  public Set<KeyId> keyIds() {
    return keys.keySet();
  }

  public boolean isEmpty() {
    return keys.isEmpty();
  }

  public boolean trusts(VerifyingKey k) {
    return k.equals(keys.get(k.id()));
  }

  /**
   * The signature among {@code found} that a trusted key made, validly, over {@code digest} and
   * {@code tag}; otherwise {@link SignatureException}: {@link ErrorCode#SIGNATURE_INVALID} when a
   * trusted key's signature claims exactly this digest and tag but does not verify (the signature
   * was tampered with), {@link ErrorCode#UNTRUSTED} for everything else (unsigned, signed only by
   * untrusted keys, or signed for another digest or tag).
   */
  public ImageSignature requireSigned(Tag tag, ImageDigest digest, List<ImageSignature> found) {
    Verdict v = judge(tag, digest, found);
    if (v.accepted() != null) {
      return v.accepted();
    }
    throw new SignatureException(v.code(), tag.toString(), digest.toString(), tag + " (" + digest
        + ") is not signed by a trusted key (" + describeTrusted() + "); found " + v.findings()
        + ". If this version is meant to be used, the holder of a trusted key signs it: cairn sign " + tag
        + " --key KEYFILE");
  }

  /**
   * For an image asked for by digest: accepted when some tag that points at it carries a valid
   * signature by a trusted key over that digest and that tag. {@code foundByTag} holds, for each tag
   * pointing at {@code digest} now, the signatures stored for it.
   */
  public ImageSignature requireSigned(ImageDigest digest, Map<Tag, List<ImageSignature>> foundByTag) {
    if (foundByTag.isEmpty()) {
      throw new SignatureException(ErrorCode.UNTRUSTED, digest.toString(), digest.toString(), digest
          + " is not signed by a trusted key (" + describeTrusted() + "): no tag points at it, and signatures"
          + " vouch for a digest under a tag; pull a signed tag instead");
    }
    List<String> findings = new ArrayList<>();
    ErrorCode code = ErrorCode.UNTRUSTED;
    for (Map.Entry<Tag, List<ImageSignature>> e : new TreeMap<>(foundByTag).entrySet()) {
      Verdict v = judge(e.getKey(), digest, e.getValue());
      if (v.accepted() != null) {
        return v.accepted();
      }
      findings.add(e.getKey() + ": " + v.findings());
      if (v.code() == ErrorCode.SIGNATURE_INVALID) {
        code = ErrorCode.SIGNATURE_INVALID;
      }
    }
    throw new SignatureException(code, digest.toString(), digest.toString(), digest + " is not signed by a"
        + " trusted key (" + describeTrusted() + ") under any tag that points at it; found " + String.join("; ",
            findings));
  }

  private record Verdict(ImageSignature accepted, ErrorCode code, String findings) {}

  private Verdict judge(Tag tag, ImageDigest digest, List<ImageSignature> found) {
    List<String> notes = new ArrayList<>();
    ErrorCode code = ErrorCode.UNTRUSTED;
    for (ImageSignature s : found) {
      boolean trusted = trusts(s.key());
      if (trusted && s.vouchesFor(digest, tag)) {
        return new Verdict(s, null, "");
      }
      String who = "key " + s.keyId() + (trusted ? " (trusted)" : " (not trusted)");
      if (!s.tag().equals(tag)) {
        notes.add(who + " signed tag " + s.tag() + ", not " + tag);
      } else if (!s.digest().equals(digest)) {
        notes.add(who + " signed " + s.digest() + ", but " + tag + " resolves to " + digest);
      } else if (!s.isValid()) {
        notes.add(who + ": the signature does not verify");
        if (trusted) {
          code = ErrorCode.SIGNATURE_INVALID;
        }
      } else {
        notes.add(who + " signed this digest and tag");
      }
    }
    return new Verdict(null, code, notes.isEmpty() ? "no signatures" : String.join("; ", notes));
  }

  private String describeTrusted() {
    if (keys.isEmpty()) {
      return "the trust set is empty";
    }
    return "trusted: " + keys.keySet().stream().map(KeyId::toHex).collect(Collectors.joining(", "));
  }

  /** Fails fast when a host asked for verification but named no keys. */
  public TrustSet requireNonEmpty() {
    if (keys.isEmpty()) {
      throw new InvalidInputException("the trust set has no keys; pass --trust KEYFILE.pub or set CAIRN_TRUST");
    }
    return this;
  }
}
