package io.cairn.server.deploy;

import io.cairn.deploy.FieldInvalidException;
import io.cairn.deploy.ProfileInfo;
import io.cairn.deploy.ProfileSignature;
import io.cairn.deploy.VmProfile;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.SignatureException;
import io.cairn.id.ProfileDigest;
import io.cairn.id.ProfileName;
import io.cairn.index.ImageRoot;
import io.cairn.server.image.Images;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * VM profiles, versioned like tags: a put stores an immutable version named by its digest and
 * points the name at it; earlier versions stay readable by digest until the name is removed.
 */
public final class Profiles {
  private final DeployRecords records;
  private final Images images;

  Profiles(DeployRecords records, Images images) {
    this.records = records;
    this.images = images;
  }

  /**
   * Stores {@code p} as the latest version of {@code name}. The template must exist (404
   * IMAGE_UNKNOWN) and fit the disk size; a signature must verify for this name and digest (400
   * SIGNATURE_INVALID). Putting the version the name already points at changes nothing.
   */
  public synchronized Result put(ProfileName name, VmProfile p, Optional<ProfileSignature> signature) {
    ImageRoot template = images.root(p.template());
    if (p.diskBytes().isPresent() && p.diskBytes().getAsLong() < template.size()) {
      throw new FieldInvalidException("diskBytes", p.diskBytes().getAsLong() + " bytes is smaller than the template "
          + p.template() + " (" + template.size() + " bytes); a VM's disk can grow from its template, not shrink");
    }
    ProfileDigest digest = p.digest();
    if (signature.isPresent() && !signature.get().verifies(name, digest)) {
      throw new SignatureException(ErrorCode.SIGNATURE_INVALID, name.value(), digest.toString(), "the signature by key "
          + signature.get().keyId() + " does not verify for profile " + name + " version " + digest
          + " (signed bytes: docs/deploy.md, \"Signed profiles\")");
    }
    Optional<ProfileDigest> now = records.latest(name);
    Optional<ProfileInfo> existing = records.version(name, digest);
    if (now.isPresent() && now.get().equals(digest) && existing.isPresent()
        && (signature.isEmpty() || existing.get().signature().isPresent())) {
      return new Result(existing.get(), false);
    }
    ProfileInfo info = new ProfileInfo(name, digest, existing.map(ProfileInfo::created).orElse(Instant.now()), p,
        signature.or(() -> existing.flatMap(ProfileInfo::signature)));
    records.putVersion(info);
    return new Result(info, now.isEmpty());
  }

  /** A put's outcome; {@code created} when the name is new. */
  public record Result(ProfileInfo info, boolean created) {}

  public ProfileInfo latest(ProfileName name) {
    ProfileDigest d = records.latest(name).orElseThrow(() -> unknown(name.value()));
    return version(name, d);
  }

  public ProfileInfo version(ProfileName name, ProfileDigest d) {
    return records.version(name, d).orElseThrow(() -> unknown(name + "@" + d));
  }

  public List<ProfileInfo> versions(ProfileName name) {
    List<ProfileInfo> v = records.versions(name);
    if (v.isEmpty()) {
      throw unknown(name.value());
    }
    v.sort((a, b) -> a.created().compareTo(b.created()));
    return v;
  }

  /** The latest version of every profile, in name order. */
  public List<ProfileInfo> list() {
    List<ProfileInfo> out = new ArrayList<>();
    for (Map.Entry<ProfileName, ProfileDigest> e : records.names().entrySet()) {
      records.version(e.getKey(), e.getValue()).ifPresent(out::add);
    }
    return out;
  }

  public synchronized void remove(ProfileName name) {
    if (!records.removeProfile(name)) {
      throw unknown(name.value());
    }
  }

  /**
   * {@code NAME} (latest) or {@code NAME@sha256:HEX} (that version), as a deploy names a profile.
   */
  public ProfileInfo resolve(String ref) {
    int at = ref.indexOf('@');
    if (at < 0) {
      return latest(ProfileName.of(ref));
    }
    return version(ProfileName.of(ref.substring(0, at)), ProfileDigest.parse(ref.substring(at + 1)));
  }

  static CairnException unknown(String what) {
    return new CairnException(ErrorCode.PROFILE_UNKNOWN, "no VM profile " + what + "; 'cairn profile ls' lists them");
  }
}
