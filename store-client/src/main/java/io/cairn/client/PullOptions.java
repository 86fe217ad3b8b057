package io.cairn.client;

import io.cairn.sign.TrustSet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How to pull: seed files (local images likely to share blocks with the one pulled), whether to
 * fsync, and the trust set that must vouch for the image.
 */
public final class PullOptions {
  private final List<Path> seeds;
  private final boolean sync;
  private final Optional<TrustSet> trust;

  private PullOptions(Builder b) {
    this.seeds = List.copyOf(b.seeds);
    this.sync = b.sync;
    this.trust = b.trust;
  }

  public static PullOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public List<Path> seeds() {
    return seeds;
  }

  /** Whether the file is fsynced before it is renamed into place (default true). */
  public boolean sync() {
    return sync;
  }

  /**
   * The keys one of which must have signed the image (see {@link CairnClient#verifiedDigest}); empty
   * (the default) pulls without checking signatures.
   */
  public Optional<TrustSet> trust() {
    return trust;
  }

  public static final class Builder {
    private final List<Path> seeds = new ArrayList<>();
    private boolean sync = true;
    private Optional<TrustSet> trust = Optional.empty();

    private Builder() {}

    /** A raw or qcow2 image whose blocks may be reused; read only. */
    public Builder seed(Path file) {
      seeds.add(file);
      return this;
    }

    public Builder seeds(List<Path> files) {
      seeds.addAll(files);
      return this;
    }

    public Builder sync(boolean sync) {
      this.sync = sync;
      return this;
    }

    /**
     * Requires a valid signature by one of {@code keys} before anything is written: for a tag, over
     * the digest it resolves to and that tag; for a digest, under some tag that points at it. A
     * trust set without keys accepts nothing.
     */
    public Builder trust(TrustSet keys) {
      this.trust = Optional.of(keys);
      return this;
    }

    public PullOptions build() {
      return new PullOptions(this);
    }
  }
}
