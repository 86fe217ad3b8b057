package io.cairn.server.cli;

import io.cairn.block.BlockSize;
import io.cairn.cli.Output;
import io.cairn.cli.Progress;
import io.cairn.disk.DiskSource;
import io.cairn.disk.DiskSources;
import io.cairn.id.Tag;
import io.cairn.server.image.ImageImporter;
import io.cairn.server.image.ImportResult;
import io.cairn.server.store.Store;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "import", description = "Import a raw or qcow2 disk image file into the local store under a tag.",
    mixinStandardHelpOptions = true)
final class ImportCommand implements Callable<Integer> {
  @Mixin StoreOptions store;

  @Parameters(index = "0", paramLabel = "FILE", description = "Raw or qcow2 disk image.")
  Path file;

  @Option(names = "--name", required = true, paramLabel = "NAME[:TAG]", description = "Tag to point at the image (tag defaults to latest).")
  String name;

  @Option(names = "--block-size", paramLabel = "SIZE", description = "Block size of a new store (4k..1M, default 4k); an existing store keeps its own.")
  String blockSize;

  @Option(names = "--json", description = "Print one JSON result instead of text.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Tag tag = Tag.parse(name); // validate before touching the store
    Optional<BlockSize> bs = Optional.ofNullable(blockSize).map(BlockSize::parse);
    try (DiskSource src = DiskSources.open(file); Store s = store.open(bs)) {
      ImportResult r;
      try (Progress p = Progress.start("import", src.size(), json)) {
        r = new ImageImporter(s).importDisk(src, Optional.of(tag), p);
      }
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tag", tag.toString());
        m.put("digest", r.digest().toString());
        m.put("apparentBytes", r.apparentBytes());
        m.put("allocatedBytes", r.allocatedBytes());
        m.put("blocks", r.blocks());
        m.put("zeroBlocks", r.zeroBlocks());
        m.put("newBlocks", r.newBlocks());
        m.put("dedupBlocks", r.dedupBlocks());
        m.put("newBytes", r.newBytes());
        m.put("seconds", r.seconds());
        Output.json(System.out, m);
      } else {
        System.out.printf("imported %s (%s)%n", tag, r.digest());
        System.out.printf("  apparent %s, allocated %s, %d blocks (%d zero)%n", Output.bytes(r.apparentBytes()),
            Output.bytes(r.allocatedBytes()), r.blocks(), r.zeroBlocks());
        System.out.printf("  new %s stored (%d blocks), %d blocks deduplicated%n", Output.bytes(r.newBytes()),
            r.newBlocks(), r.dedupBlocks());
        System.out.printf("  %.2f s, %s apparent, %s allocated%n", r.seconds(),
            Output.rate(r.apparentBytes(), r.seconds()), Output.rate(r.allocatedBytes(), r.seconds()));
      }
    }
    return 0;
  }
}
