package io.cairn.server.cli;

import io.cairn.cli.Output;
import io.cairn.disk.DiskSource;
import io.cairn.disk.DiskSources;
import io.cairn.server.image.ImageImporter;
import io.cairn.server.image.ImportResult;
import io.cairn.server.store.Store;
import io.cairn.server.verify.Problem;
import io.cairn.server.verify.Verifier;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code cairn repair --from FILE}: re-supplies blocks and index pages from a local copy of an image
 * (raw or qcow2), then verifies. Whatever the file holds that the store lacks, including what verify
 * quarantined, is stored again; on a running server, publishing the image with {@code cairn push}
 * heals the same way.
 */
@Command(name = "repair", mixinStandardHelpOptions = true,
    description = "Re-supply missing or quarantined blocks and pages from a local image file or another Cairn"
        + " server, then verify.")
final class RepairCommand implements Callable<Integer> {
  @Mixin StoreOptions store;

  @Option(names = "--from", required = true, paramLabel = "FILE|URL",
      description = "A raw or qcow2 image that holds the lost data, or another Cairn server (http://HOST:PORT).")
  String from;

  @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:CAIRN_TOKEN}",
      description = "Token for the other server (env CAIRN_TOKEN).")
  String token;

  @Override
  public Integer call() throws Exception {
    if (from.startsWith("http://") || from.startsWith("https://")) {
      try (Store s = store.open()) {
        return fromServer(s);
      }
    }
    try (Store s = store.open(); DiskSource src = DiskSources.open(Path.of(from))) {
      // Damage the store does not know of yet (a table block that fails its checksum is found only
      // when read) would look present to the import: verify first, quarantining what it finds.
      Verifier.Report found = new Verifier(s, Verifier.Options.full()).run();
      if (found.quarantined() > 0) {
        System.out.printf("repair: quarantined %d damaged blocks and pages first%n", found.quarantined());
      }
      java.util.Set<io.cairn.id.ImageDigest> before = new java.util.HashSet<>(s.index().images());
      ImportResult r = new ImageImporter(s).importDisk(src, Optional.empty(), p -> { });
      boolean known = before.contains(r.digest());
      System.out.printf("repair: %s supplied %d blocks (%s) the store lacked%n", from, r.newBlocks(),
          Output.bytes(r.newBlocks() * s.blockSize().bytes()));
      Verifier.Report v = new Verifier(s, new Verifier.Options(100, 0, false)).run();
      for (Problem p : v.problems()) {
        System.out.printf("still %s %s: %s; needed by %s%n", p.kind(), p.id(), p.detail(), String.join(", ", p.dependents()));
      }
      System.out.printf("repair: %s (%d problems left); the file is image version %s%s%n", v.ok() ? "store is healthy"
          : "store still damaged", v.problems().size(), r.digest(), known ? "" : " (kept untagged)");
      return v.ok() ? 0 : 1;
    }
  }

  /**
   * Asks the other server for every block and page verify finds missing or corrupt here, checks
   * each against its id, and stores it; then verifies again.
   */
  private int fromServer(Store s) throws Exception {
    int[] totals = new int[3];
    // A page that was missing hid its blocks from verify: after supplying pages, look again.
    for (int round = 0; round < 4; round++) {
      int[] got = supply(s, new Verifier(s, Verifier.Options.full()).run());
      totals[0] += got[0];
      totals[1] += got[1];
      totals[2] = got[2];
      if (got[1] == 0) {
        break;
      }
    }
    System.out.printf("repair: %s supplied %d blocks and %d pages; %d could not be had%n", from, totals[0], totals[1],
        totals[2]);
    Verifier.Report v = new Verifier(s, new Verifier.Options(100, 0, false)).run();
    for (Problem p : v.problems()) {
      System.out.printf("still %s %s: %s; needed by %s%n", p.kind(), p.id(), p.detail(), String.join(", ", p.dependents()));
    }
    System.out.printf("repair: %s (%d problems left)%n", v.ok() ? "store is healthy" : "store still damaged",
        v.problems().size());
    return v.ok() ? 0 : 1;
  }

  /** Fetches what {@code first} reports missing or corrupt; returns blocks, pages supplied and items not had. */
  private int[] supply(Store s, Verifier.Report first) throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
        .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(java.time.Duration.ofSeconds(10)).build();
    String base = from.endsWith("/") ? from.substring(0, from.length() - 1) : from;
    int blocks = 0;
    int pages = 0;
    int unavailable = 0;
    try (io.cairn.server.store.BlockInserter ins = s.blocks().newInserter(io.cairn.server.store.BlockStore.Durability.LOGGED)) {
      for (Problem p : first.problems()) {
        boolean isBlock = p.kind() == Problem.Kind.BLOCK_MISSING || p.kind() == Problem.Kind.BLOCK_CORRUPT;
        boolean isPage = p.kind() == Problem.Kind.PAGE_MISSING || p.kind() == Problem.Kind.PAGE_CORRUPT;
        if (!isBlock && !isPage) {
          continue;
        }
        java.net.http.HttpRequest.Builder rb = java.net.http.HttpRequest.newBuilder(
            java.net.URI.create(base + (isBlock ? "/v1/blocks/" : "/v1/pages/") + p.id()))
            .timeout(java.time.Duration.ofSeconds(60));
        if (token != null && !token.isEmpty()) {
          rb.header("Authorization", "Bearer " + token);
        }
        java.net.http.HttpResponse<byte[]> r = http.send(rb.build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
          unavailable++;
          System.out.printf("repair: %s has no %s %s (HTTP %d)%n", base, isBlock ? "block" : "page", p.id(), r.statusCode());
          continue;
        }
        byte[] body = r.body();
        if (isBlock) {
          io.cairn.id.BlockId id = io.cairn.id.BlockId.fromHex(p.id());
          // Never trust the other side: the bytes must hash to the id they replace.
          if (body.length != s.blockSize().bytes() || !io.cairn.block.BlockHasher.hashBlock(body, 0, body.length).equals(id)) {
            unavailable++;
            System.out.printf("repair: %s sent wrong bytes for block %s; skipped%n", base, p.id());
            continue;
          }
          ins.insert(id, body, 0);
          blocks++;
        } else {
          io.cairn.index.IndexPage page = io.cairn.index.IndexPage.parse(body);
          if (!page.id().toHex().equals(p.id())) {
            unavailable++;
            System.out.printf("repair: %s sent a wrong page for %s; skipped%n", base, p.id());
            continue;
          }
          s.index().putPages(java.util.List.of(page));
          pages++;
        }
      }
    }
    return new int[] {blocks, pages, unavailable};
  }
}
