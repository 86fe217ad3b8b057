package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.server.objects.ObjectUnavailableException;
import io.cairn.server.objects.RetryingObjectStore;
import io.cairn.server.objects.S3ObjectStore;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The real gateway goes away and comes back: bounded retries with backoff ride it out, or fail typed. */
@ExtendWith(CephCluster.class)
class CephOutageTest {
  @Test
  public void put_whenGatewayDownForThreeSeconds_retriesUntilItIsBack() throws Exception {
    CephCluster.Running c = CephCluster.get();
    byte[] data = new byte[1 << 20];
    new Random(3).nextBytes(data);
    try (S3ObjectStore s3 = c.store("outage")) {
      c.stopGateway();
      try {
        // Two quick tries are not enough: the caller gets the typed error, not a hang.
        assertThrows(ObjectUnavailableException.class,
            () -> new RetryingObjectStore(s3, 2, 10, 20).put("early", data, 0, data.length));
        long t0 = System.nanoTime();
        CompletableFuture<Void> back = CompletableFuture.runAsync(() -> {
          try {
            Thread.sleep(3_000);
            c.startGateway();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        new RetryingObjectStore(s3, 12, 200, 2_000).put("during", data, 0, data.length);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        back.get();
        assertTrue(ms >= 3_000, "the put finished only after the gateway was back: " + ms + " ms");
        assertArrayEquals(data, s3.readAll("during"));
        System.out.println("ceph outage: put succeeded " + ms + " ms after the gateway stopped");
      } finally {
        if (!gatewayAnswers(c)) {
          c.startGateway();
        }
      }
    }
  }

  private static boolean gatewayAnswers(CephCluster.Running c) {
    try (java.net.Socket s = new java.net.Socket(c.endpoint().getHost(), c.endpoint().getPort())) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
