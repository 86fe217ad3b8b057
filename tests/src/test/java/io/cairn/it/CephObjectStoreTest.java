package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cairn.error.ErrorCode;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.objects.ObjectStoreContract;
import io.cairn.server.objects.ObjectStoreException;
import io.cairn.server.objects.ObjectUnavailableException;
import io.cairn.server.objects.S3ObjectStore;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

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

  @Test
  public void credentialsFile_whenEnvironmentHasNoKeys_signsWithTheFilesKeys(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(System.getenv("AWS_ACCESS_KEY_ID") == null, "AWS_ACCESS_KEY_ID is set; it would win");
    CephCluster.Running c = CephCluster.get();
    Path file = dir.resolve("credentials");
    Files.writeString(file, "[cairn]\naws_access_key_id = " + c.accessKey() + "\naws_secret_access_key = "
        + c.secretKey() + "\n");
    try (S3ObjectStore viaFile = S3ObjectStore.builder().endpoint(c.endpoint()).bucket("contract")
        .prefix(dir().replace("/", "-")).credentialsFromEnvironmentOrFile(file, "cairn").build()) {
      byte[] v = {4, 2};
      viaFile.put("k", v, 0, 2);
      assertArrayEquals(v, viaFile.readAll("k"));
      // The prefix is the store's: the same object seen through a store without it.
      assertArrayEquals(v, s3.readAll(dir().replace("/", "-") + "/k"));
    }
  }

  @Test
  public void put_whenSecretIsWrong_throwsDenied() {
    CephCluster.Running c = CephCluster.get();
    try (S3ObjectStore bad = S3ObjectStore.builder().endpoint(c.endpoint()).bucket("contract")
        .credentials(c.accessKey(), "not-the-secret").build()) {
      ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> bad.put(dir() + "x", new byte[1], 0, 1));
      assertEquals(ErrorCode.DENIED, e.code());
    }
  }

  @Test
  public void get_whenNothingListens_throwsUnavailable() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (S3ObjectStore gone = S3ObjectStore.builder().endpoint(URI.create("http://127.0.0.1:" + port))
        .bucket("contract").credentials("a", "b").timeouts(Duration.ofSeconds(1), Duration.ofSeconds(1)).build()) {
      assertThrows(ObjectUnavailableException.class, () -> gone.readAll("k"));
    }
  }
}
