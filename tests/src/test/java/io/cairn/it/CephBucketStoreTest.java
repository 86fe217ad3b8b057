package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cairn.server.objects.ObjectStore;
import io.cairn.server.objects.S3ObjectStore;
import io.cairn.server.objectstore.BucketFixture;
import io.cairn.server.objectstore.CrossInstanceContract;
import io.cairn.server.objectstore.RebuildMeasure;
import io.cairn.server.store.BlockStoreContract;
import io.cairn.server.store.IndexStoreContract;
import io.cairn.server.store.SignatureStoreContract;
import io.cairn.server.store.StoreFixture;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The object-store backend ({@code io.cairn.server.objectstore.BucketStore}) on a real Ceph RADOS
 * Gateway: the same store contracts as RocksDB and the memory bucket, two servers on one bucket,
 * and the cost of rebuilding the location index. Every test gets its own prefix of one bucket.
 */
@ExtendWith(CephCluster.class)
class CephBucketStoreTest {
  private static final String BUCKET = "stores";
  private static final List<S3ObjectStore> CLIENTS = new CopyOnWriteArrayList<>();

  /** A client of a prefix of the test bucket (each server has its own client, as in production). */
  private static S3ObjectStore client(String prefix) {
    CephCluster.Running r = CephCluster.get();
    if (CLIENTS.isEmpty()) {
      r.store(BUCKET).close(); // creates the bucket
    }
    S3ObjectStore s = S3ObjectStore.builder().endpoint(r.endpoint()).bucket(BUCKET).prefix(prefix)
        .credentials(r.accessKey(), r.secretKey()).build();
    CLIENTS.add(s);
    return s;
  }

  private static StoreFixture fresh() {
    return new BucketFixture(() -> client(UUID.randomUUID().toString()));
  }

  @AfterAll
  static void closeClients() {
    CLIENTS.forEach(S3ObjectStore::close);
    CLIENTS.clear();
  }

  @Nested
  class Blocks extends BlockStoreContract {
    @Override
    protected StoreFixture fixture() {
      return fresh();
    }
  }

  @Nested
  class Index extends IndexStoreContract {
    @Override
    protected StoreFixture fixture() {
      return fresh();
    }
  }

  @Nested
  class Signatures extends SignatureStoreContract {
    @Override
    protected StoreFixture fixture() {
      return fresh();
    }
  }

  @Nested
  class TwoServers extends CrossInstanceContract {
    @Override
    protected ObjectStore[] twoClients() {
      String prefix = UUID.randomUUID().toString();
      return new ObjectStore[] {client(prefix), client(prefix)};
    }
  }

  @Test
  void open_whenBucketHoldsPacks_rebuildsTheLocationIndexFromTheirTails() {
    int blocks = Integer.getInteger("cairn.rebuildBlocks", 100_000);
    RebuildMeasure.Result r = RebuildMeasure.run(client(UUID.randomUUID().toString()), blocks);
    System.out.println("rebuild on Ceph: " + r);
    assertEquals((blocks + 16_383) / 16_384, r.packs());
  }
}
