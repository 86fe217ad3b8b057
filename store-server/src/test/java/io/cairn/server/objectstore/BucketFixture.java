package io.cairn.server.objectstore;

import io.cairn.block.BlockSize;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.pack.PackWriter;
import io.cairn.server.store.StoreFixture;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A {@link BucketStore} over a fresh bucket (or prefix) for the store contracts; reopen opens a
 * new instance over the same bucket, as a restarted or a second server would. Packs are sealed at
 * 1 MiB of blocks, so a few hundred blocks span several packs.
 */
public final class BucketFixture implements StoreFixture {
  public static final PackWriter.Options SMALL_PACKS = PackWriter.Options.defaults(BlockSize.DEFAULT).withTargetBytes(1 << 20);

  private final ObjectStore bucket;

  public BucketFixture(Supplier<ObjectStore> freshBucket) {
    this.bucket = freshBucket.get();
  }

  public ObjectStore bucket() {
    return bucket;
  }

  @Override
  public Parts open() {
    BucketStore s = BucketStore.open(bucket, Optional.empty(), Optional.of(SMALL_PACKS));
    return new Parts(s.blocks(), s.index(), s.signatures());
  }

  @Override
  public Parts reopen() {
    return open(); // nothing to close: an instance holds no resources but memory
  }

  @Override
  public void close() {}
}
