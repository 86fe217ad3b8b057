package io.cairn.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.disk.RawFileSource;
import io.cairn.id.BlockId;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.server.image.ImageExporter;
import io.cairn.server.image.ImageImporter;
import io.cairn.server.image.Images;
import io.cairn.server.testing.TestDisks;
import io.cairn.server.verify.Verifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Closing the store while threads read it: every late call gets {@link StoreClosedException}, never a
 * native crash (store-server's old hs_err_pid22212.log was an export worker in RocksDB.multiGet after
 * close). A crash here kills the test JVM, which fails the build.
 */
class StoreCloseTest {
  @TempDir Path dir;

  private ImageRoot importRandom(Store s, long size) throws Exception {
    Path in = TestDisks.random(dir.resolve("in.img"), size, 7);
    try (RawFileSource src = RawFileSource.open(in)) {
      new ImageImporter(s).importDisk(src, Optional.of(Tag.parse("disk:v1")), x -> {});
    }
    return new Images(s).root(ImageRef.parse("disk:v1"));
  }

  @Test
  void close_whileReadersRun_readersGetStoreClosedAndStoreReopensIntact() throws Exception {
    Store s = Store.open(dir.resolve("data"), Optional.empty());
    ImageRoot root = importRandom(s, 8L << 20);
    IndexPage page = s.index().page(root.pageId(0)).orElseThrow();
    List<BlockId> ids = page.blockIds().subList(0, 64);
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    AtomicLong reads = new AtomicLong();
    CountDownLatch running = new CountDownLatch(4);
    List<Thread> readers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int kind = t;
      Thread th = new Thread(() -> {
        byte[] buf = new byte[64 * 4096];
        running.countDown();
        try {
          while (true) {
            switch (kind) {
              case 0 -> s.blocks().read(ids, buf, 0); // multiGet, as the crashed exporter did
              case 1 -> s.blocks().read(page, 0, 64, buf, 0); // iterator reads
              case 2 -> s.index().page(root.pageId(0));
              default -> {
                try (OverlayStore.View v = s.overlays().view()) {
                  v.list(Optional.empty());
                }
              }
            }
            reads.incrementAndGet();
          }
        } catch (Throwable e) {
          errors.add(e);
        }
      });
      th.start();
      readers.add(th);
    }
    running.await();
    Thread.sleep(200);
    assertTrue(s.close(Duration.ofSeconds(5)), "every reader left the store within 5 s");
    for (Thread th : readers) {
      th.join(5_000);
      assertFalse(th.isAlive());
    }
    assertTrue(reads.get() > 0, "readers ran before the close");
    assertEquals(4, errors.size());
    for (Throwable e : errors) {
      assertEquals(StoreClosedException.class, e.getClass(), "typed error, got " + e);
    }
    StoreClosedException late = assertThrows(StoreClosedException.class, () -> s.blocks().read(ids, new byte[64 * 4096], 0));
    assertEquals(io.cairn.error.ErrorCode.UNAVAILABLE, late.code());
    s.close(); // a second close is a no-op, not a call into freed memory

    try (Store again = Store.open(dir.resolve("data"), Optional.empty())) {
      assertTrue(new Verifier(again).run().ok(), "the store reopens and verifies");
    }
  }

  @Test
  void close_duringExport_exportFailsTypedAndLeavesNoFile() throws Exception {
    Store s = Store.open(dir.resolve("data"), Optional.empty());
    ImageRoot root = importRandom(s, 48L << 20);
    Path out = dir.resolve("out.img");
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    Thread export = new Thread(() -> {
      try {
        new ImageExporter(new Images(s)).export(root, out, x -> {});
      } catch (Throwable e) {
        errors.add(e);
      }
    });
    export.start();
    Thread.sleep(30);
    boolean closed = s.close(Duration.ofSeconds(5));
    export.join(10_000);
    assertTrue(closed);
    assertFalse(export.isAlive());
    if (errors.isEmpty()) {
      // The export won the race; its file must then be complete.
      assertEquals(root.size(), Files.size(out));
    } else {
      assertTrue(errors.peek() instanceof StoreClosedException, "typed error, got " + errors.peek());
      assertFalse(Files.exists(out), "no file under the final name");
    }
  }

  @Test
  void cancel_stopsVerifyAtItsNextStep() throws Exception {
    Store s = Store.open(dir.resolve("data"), Optional.empty());
    importRandom(s, 16L << 20);
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    // 1 MB/s: a full run would take about 16 s.
    Thread verify = new Thread(() -> {
      try {
        new Verifier(s, new Verifier.Options(100, 1_000_000, false)).run();
      } catch (Throwable e) {
        errors.add(e);
      }
    });
    verify.start();
    Thread.sleep(500);
    long t0 = System.nanoTime();
    s.cancel();
    verify.join(5_000);
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertFalse(verify.isAlive(), "verify still running 5 s after cancel");
    assertTrue(millis < 1_000, "verify took " + millis + " ms to stop");
    assertTrue(errors.peek() instanceof StoreClosedException, "typed error, got " + errors.peek());
    assertTrue(s.close(Duration.ofSeconds(5)));
  }
}
