package io.cairn.server.objectstore;

import io.cairn.server.objects.MemoryObjectStore;
import io.cairn.server.store.BlockStoreContract;
import io.cairn.server.store.IndexStoreContract;
import io.cairn.server.store.SignatureStoreContract;
import io.cairn.server.store.StoreFixture;
import org.junit.jupiter.api.Nested;

/** The store contracts against {@link BucketStore} on {@link MemoryObjectStore}: milliseconds. */
class MemoryBucketContractTest {
  @Nested
  class Blocks extends BlockStoreContract {
    @Override
    protected StoreFixture fixture() {
      return new BucketFixture(MemoryObjectStore::new);
    }
  }

  @Nested
  class Index extends IndexStoreContract {
    @Override
    protected StoreFixture fixture() {
      return new BucketFixture(MemoryObjectStore::new);
    }
  }

  @Nested
  class Signatures extends SignatureStoreContract {
    @Override
    protected StoreFixture fixture() {
      return new BucketFixture(MemoryObjectStore::new);
    }
  }
}
