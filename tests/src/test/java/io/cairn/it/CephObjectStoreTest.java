package io.cairn.it;

import io.cairn.server.objects.ObjectStore;
import io.cairn.server.objects.ObjectStoreContract;
import io.cairn.server.objects.S3ObjectStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The object-store contract (the same tests the memory store passes) against a real Ceph RADOS
 * Gateway through {@link S3ObjectStore}: create-only puts under a 16-way race, ranges, listing
 * pages, typed errors.
 */
@ExtendWith(CephCluster.class)
class CephObjectStoreTest extends ObjectStoreContract {
  private static S3ObjectStore s3;

  @BeforeAll
  static void bucket() {
    s3 = CephCluster.get().store("contract");
  }

  @AfterAll
  static void close() {
    if (s3 != null) {
      s3.close();
    }
  }

  @Override
  protected ObjectStore store() {
    return s3;
  }
}
