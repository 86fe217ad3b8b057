package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.client.PullOptions;
import io.cairn.id.BlockId;
import io.cairn.id.ImageRef;
import io.cairn.id.PageId;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.server.store.Store;
import io.cairn.server.store.StoreTestAccess;
import io.cairn.server.testing.TestDisks;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bit rot: 50 blocks and 5 index pages flipped directly in RocksDB. Verify must name exactly those
 * 55 items and the images that depend on them, and quarantine them; serving them must fail with
 * BLOCK_CORRUPT instead of sending wrong bytes; publishing the original images again heals the store.
 */
class BitRotTest {
  @TempDir Path dir;

  @Test
  void flippedBlocksAndPages_areReportedExactly_notServed_andHealedByRepublishing() throws Exception {
    Path data = dir.resolve("data");
    String[] tags = {"rot/a:1", "rot/b:1", "rot/c:1"};
    Path[] files = new Path[3];
    for (int i = 0; i < 3; i++) {
      files[i] = TestDisks.random(dir.resolve("img" + i + ".raw"), 24L << 20, 100 + i);
      Cli.Result r = Cli.run("import", files[i].toString(), "--name", tags[i], "--data", data.toString());
      assertEquals(0, r.exit(), r.toString());
    }

    // Damage: 5 pages of image a; 50 blocks that only images b and c name (so no damaged page hides them).
    Set<String> damaged = new HashSet<>();
    Map<String, Set<String>> dependents = new HashMap<>();
    BlockId sampleBlock;
    long sampleOffset;
    try (Store s = Store.open(data, Optional.empty())) {
      ImageRoot a = s.index().root(s.index().tag(Tag.parse(tags[0])).orElseThrow().digest()).orElseThrow();
      Set<BlockId> inA = new HashSet<>();
      List<PageId> aPages = new ArrayList<>();
      for (PageId pid : a.pageIds()) {
        if (!pid.isZero()) {
          aPages.add(pid);
          inA.addAll(s.index().page(pid).orElseThrow().blockIds());
        }
      }
      Collections.shuffle(aPages, new Random(1));
      for (PageId pid : aPages.subList(0, 5)) {
        byte[] enc = s.index().page(pid).orElseThrow().encoded().clone();
        enc[8 + 5] ^= 0x40; // inside the first id: still parses, no longer hashes to its name
        StoreTestAccess.putRawPage(s, pid, enc);
        damaged.add(pid.toHex());
        dependents.put(pid.toHex(), Set.of(tags[0]));
      }
      Map<BlockId, Set<String>> users = new HashMap<>();
      Map<BlockId, Long> offsetInB = new HashMap<>();
      for (int i = 1; i < 3; i++) {
        ImageRoot r = s.index().root(s.index().tag(Tag.parse(tags[i])).orElseThrow().digest()).orElseThrow();
        for (int p = 0; p < r.pageCount(); p++) {
          if (r.pageId(p).isZero()) {
            continue;
          }
          IndexPage page = s.index().page(r.pageId(p)).orElseThrow();
          for (int k = 0; k < page.count(); k++) {
            BlockId id = page.blockId(k);
            if (!id.isZero() && !inA.contains(id)) {
              users.computeIfAbsent(id, x -> new LinkedHashSet<>()).add(tags[i]);
              if (i == 1) {
                offsetInB.putIfAbsent(id, ((long) p * r.entriesPerPage() + k) * 4096);
              }
            }
          }
        }
      }
      List<BlockId> candidates = new ArrayList<>(offsetInB.keySet());
      candidates.sort(null);
      Collections.shuffle(candidates, new Random(2));
      for (BlockId id : candidates.subList(0, 50)) {
        byte[] raw = StoreTestAccess.rawBlock(s, id).clone();
        raw[new Random(id.hashCode()).nextInt(raw.length)] ^= 0x01;
        StoreTestAccess.putRawBlock(s, id, raw);
        damaged.add(id.toHex());
        dependents.put(id.toHex(), users.get(id));
      }
      sampleBlock = candidates.get(0);
      sampleOffset = offsetInB.get(sampleBlock);
    }

    Cli.Result v = Cli.run("verify", "--json", "--data", data.toString());
    assertEquals(1, v.exit(), v.toString());
    JsonNode report = Http.JSON.readTree(v.out());
    Set<String> reported = new HashSet<>();
    for (JsonNode p : report.path("problems")) {
      String id = p.path("id").asText();
      reported.add(id);
      String kind = p.path("kind").asText();
      assertTrue(kind.equals("BLOCK_CORRUPT") || kind.equals("PAGE_CORRUPT"), p.toString());
      Set<String> deps = new HashSet<>();
      p.path("dependents").forEach(d -> deps.add(d.asText()));
      assertEquals(dependents.get(id), deps, "dependents of " + id);
    }
    assertEquals(damaged, reported, "verify must report exactly the 55 damaged items");
    assertEquals(55, report.path("quarantined").asInt());

    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"));
        CairnClient c = Overlays.client(server, server.token())) {
      // A range over a quarantined block: an error, never the wrong bytes.
      HttpResponse<byte[]> r = Http.send(Http.req(server.uri("/v1/images/" + tags[1] + "/disk"))
          .header("Range", "bytes=" + sampleOffset + "-" + (sampleOffset + 4095)).GET().build());
      assertEquals(500, r.statusCode(), new String(r.body()));
      assertEquals("BLOCK_CORRUPT", Http.json(r).path("error").asText());
      HttpResponse<byte[]> whole = Http.get(server.uri("/v1/images/" + tags[0] + "/disk"));
      assertEquals(500, whole.statusCode());
      assertEquals("BLOCK_CORRUPT", Http.json(whole).path("error").asText());

      // Heal: publish the originals again; only what was lost travels.
      long sent = 0;
      for (int i = 0; i < 3; i++) {
        sent += c.publish(files[i], Tag.parse(tags[i]), ProgressListener.NONE).blocksSent();
      }
      assertEquals(50, sent, "re-publishing sends exactly the quarantined blocks");
      for (int i = 0; i < 3; i++) {
        Path out = dir.resolve("healed" + i + ".raw");
        c.pull(ImageRef.parse(tags[i]), out, PullOptions.defaults(), ProgressListener.NONE);
        assertEquals(TestDisks.sha256(files[i]), TestDisks.sha256(out));
      }
    }
    Cli.Result healed = Cli.run("verify", "--data", data.toString());
    assertEquals(0, healed.exit(), healed.toString());
  }

  /** {@code cairn repair} re-supplies lost blocks and pages, from another server or from a local file. */
  @Test
  void repair_fromAnotherServer_andFromAFile_healsTheStore() throws Exception {
    Path image = TestDisks.random(dir.resolve("r.raw"), 16L << 20, 77);
    Path damaged = dir.resolve("damaged");
    Path healthy = dir.resolve("healthy");
    for (Path d : new Path[] {damaged, healthy}) {
      assertEquals(0, Cli.run("import", image.toString(), "--name", "rep:1", "--data", d.toString()).exit());
    }
    for (int pass = 0; pass < 2; pass++) {
      try (Store s = Store.open(damaged, Optional.empty())) {
        ImageRoot root = s.index().root(s.index().tag(Tag.parse("rep:1")).orElseThrow().digest()).orElseThrow();
        PageId pid = root.pageIds().stream().filter(p -> !p.isZero()).findFirst().orElseThrow();
        IndexPage page = s.index().page(pid).orElseThrow();
        byte[] enc = page.encoded().clone();
        enc[8 + 7] ^= 0x10;
        StoreTestAccess.putRawPage(s, pid, enc);
        int hit = 0;
        PageId last = root.pageIds().stream().filter(p -> !p.isZero()).reduce((a, b) -> b).orElseThrow();
        for (BlockId id : s.index().page(last).orElseThrow().blockIds()) {
          if (!id.isZero() && hit < 10) {
            byte[] raw = StoreTestAccess.rawBlock(s, id).clone();
            raw[0] ^= 0x7f;
            StoreTestAccess.putRawBlock(s, id, raw);
            hit++;
          }
        }
      }
      assertEquals(1, Cli.run("verify", "--data", damaged.toString()).exit(), "damage must be found");
      Cli.Result r;
      if (pass == 0) {
        try (ServerProcess other = ServerProcess.start(healthy, dir.resolve("other-logs"))) {
          r = Cli.run("repair", "--data", damaged.toString(), "--from", other.baseUri().toString(), "--token",
              other.token());
        }
      } else {
        r = Cli.run("repair", "--data", damaged.toString(), "--from", image.toString());
      }
      assertEquals(0, r.exit(), r.toString());
      assertTrue(r.out().contains("store is healthy"), r.out());
      Cli.Result ok = Cli.run("verify", "--data", damaged.toString());
      assertEquals(0, ok.exit(), ok.toString());
      Path out = dir.resolve("repaired" + pass + ".raw");
      assertEquals(0, Cli.run("export", "rep:1", out.toString(), "--data", damaged.toString()).exit());
      assertEquals(TestDisks.sha256(image), TestDisks.sha256(out));
    }
  }
}
