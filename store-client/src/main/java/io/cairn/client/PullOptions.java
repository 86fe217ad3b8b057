package io.cairn.client;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** How to pull: seed files (local images likely to share blocks with the one pulled), and whether to fsync. */
public final class PullOptions {
  private final List<Path> seeds;
  private final boolean sync;

  private PullOptions(Builder b) {
    this.seeds = List.copyOf(b.seeds);
    this.sync = b.sync;
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

  public static final class Builder {
    private final List<Path> seeds = new ArrayList<>();
    private boolean sync = true;

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

    public PullOptions build() {
      return new PullOptions(this);
    }
  }
}
