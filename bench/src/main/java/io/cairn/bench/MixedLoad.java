package io.cairn.bench;

import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.client.PullOptions;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The load the server's memory budget is measured under: at once, {@code gets} hosts reading the
 * image as a disk ({@code GET …/disk}, whole), {@code pulls} hosts pulling it with the real client
 * (no local cache, so every block is fetched), and {@code writers} overlay writers each writing
 * 1 MiB pieces of random data into an overlay of the image. Every thread starts together and does
 * one round; the result counts bytes and failures. Used by serve-bench.sh (step 5) and by the
 * memory test (tests, ServeMemoryTest), so both measure the same thing.
 */
public final class MixedLoad {
  /** What one run did; {@code errors} holds the first few failures' messages. */
  public record Result(long diskBytes, long pulls, long overlayBytes, int failures, double seconds, List<String> errors) {
    public String toJson() {
      return String.format(java.util.Locale.ROOT,
          "{\"diskBytes\":%d,\"pulls\":%d,\"overlayBytes\":%d,\"failures\":%d,\"seconds\":%.2f}",
          diskBytes, pulls, overlayBytes, failures, seconds);
    }
  }

  private MixedLoad() {}

  /**
   * Runs the load against {@code server} as {@code token} (a user that may read {@code image} and
   * own overlays). {@code scratch} receives the pulled files (each deleted once checked).
   */
  public static Result run(URI server, String token, String image, long imageSize, Path scratch, int gets, int pulls,
      int writers, int writesPerWriter) throws InterruptedException {
    String base = server.toString().replaceAll("/$", "");
    AtomicLong diskBytes = new AtomicLong();
    AtomicLong pulled = new AtomicLong();
    AtomicLong written = new AtomicLong();
    ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < gets; i++) {
      threads.add(thread("get-" + i, go, errors, () -> diskBytes.addAndGet(readDisk(base, token, image, imageSize))));
    }
    for (int i = 0; i < pulls; i++) {
      Path out = scratch.resolve("pull-" + i + ".raw");
      threads.add(thread("pull-" + i, go, errors, () -> {
        try (CairnClient c = CairnClient.builder().endpoint(server).token(token).parallelism(2).build()) {
          c.pull(ImageRef.parse(image), out, PullOptions.defaults(), ProgressListener.NONE);
          long size = Files.size(out);
          if (size != imageSize) {
            throw new IOException("pulled " + size + " bytes, expected " + imageSize);
          }
          pulled.incrementAndGet();
        } finally {
          Files.deleteIfExists(out);
        }
      }));
    }
    for (int i = 0; i < writers; i++) {
      int n = i;
      threads.add(thread("writer-" + i, go, errors, () -> {
        try (CairnClient c = CairnClient.builder().endpoint(server).token(token).build()) {
          OverlayName name = OverlayName.of("memload-" + n + "-" + System.nanoTime());
          c.overlays().create(name, ImageRef.parse(image));
          Random r = new Random(n);
          byte[] piece = new byte[1 << 20];
          for (int w = 0; w < writesPerWriter; w++) {
            r.nextBytes(piece);
            long offset = (long) r.nextInt((int) Math.max(1, (imageSize - piece.length) / 4096)) * 4096;
            c.overlays().write(name, offset, piece, 0, piece.length);
            written.addAndGet(piece.length);
          }
          c.overlays().delete(name);
        }
      }));
    }
    long t0 = System.nanoTime();
    go.countDown();
    for (Thread t : threads) {
      t.join();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    List<String> first = errors.stream().limit(5).toList();
    return new Result(diskBytes.get(), pulled.get(), written.get(), errors.size(), seconds, first);
  }

  private interface Work {
    void run() throws Exception;
  }

  private static Thread thread(String name, CountDownLatch go, ConcurrentLinkedQueue<String> errors, Work w) {
    Thread t = new Thread(() -> {
      try {
        go.await();
        w.run();
      } catch (Exception | AssertionError e) {
        errors.add(name + ": " + e);
      }
    }, "load-" + name);
    t.start();
    return t;
  }

  /** Reads the whole disk; the byte count must be the image's size. */
  private static long readDisk(String base, String token, String image, long size) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create(base + "/v1/images/" + image + "/disk").toURL()
        .openConnection(Proxy.NO_PROXY);
    c.setRequestProperty("Authorization", "Bearer " + token);
    c.setReadTimeout(120_000);
    if (c.getResponseCode() != 200) {
      throw new IOException("GET disk: HTTP " + c.getResponseCode());
    }
    long n = 0;
    byte[] buf = new byte[64 << 10];
    try (InputStream in = c.getInputStream()) {
      for (int k; (k = in.read(buf)) > 0; ) {
        n += k;
      }
    }
    if (n != size) {
      throw new IOException("GET disk: " + n + " bytes, expected " + size);
    }
    return n;
  }

  /**
   * {@code MixedLoad URL TOKEN IMAGE SIZE SCRATCHDIR [GETS PULLS WRITERS WRITES]}: runs once and
   * prints the result as one JSON object; exits 1 when anything failed.
   */
  public static void main(String[] args) throws Exception {
    if (args.length < 5) {
      System.err.println("usage: MixedLoad URL TOKEN IMAGE SIZE SCRATCHDIR [GETS PULLS WRITERS WRITES]");
      System.exit(2);
    }
    int gets = args.length > 5 ? Integer.parseInt(args[5]) : 64;
    int pulls = args.length > 6 ? Integer.parseInt(args[6]) : 64;
    int writers = args.length > 7 ? Integer.parseInt(args[7]) : 8;
    int writes = args.length > 8 ? Integer.parseInt(args[8]) : 16;
    Result r = run(URI.create(args[0]), args[1], args[2], Long.parseLong(args[3]), Path.of(args[4]), gets, pulls,
        writers, writes);
    System.out.println(r.toJson());
    r.errors().forEach(e -> System.err.println("MixedLoad: " + e));
    System.exit(r.failures() == 0 ? 0 : 1);
  }
}
