package io.cairn.client.cli;

import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.client.ImageDetails;
import io.cairn.client.ImageInfo;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "info", mixinStandardHelpOptions = true,
    description = "Show an image on the server: digest, size, blocks, unique bytes, tags.")
final class InfoCommand implements Callable<Integer> {
  @Mixin ServerOptions opts;

  @Parameters(index = "0", paramLabel = "NAME[:TAG]|DIGEST", description = "Image to describe.")
  String ref;

  @Override
  public Integer call() throws Exception {
    ImageDetails d;
    try (CairnClient c = opts.client(true)) {
      d = c.info(ImageRef.parse(ref));
    }
    ImageInfo i = d.image();
    if (opts.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("digest", i.digest().toString());
      m.put("size", i.size());
      m.put("blockSize", i.blockSize());
      m.put("blocks", i.blocks());
      m.put("zeroBlocks", d.zeroBlocks());
      m.put("distinctBlocks", d.distinctBlocks());
      m.put("uniqueBytes", d.uniqueBytes());
      m.put("tags", i.tags().stream().map(Tag::toString).collect(Collectors.toList()));
      Output.json(System.out, m);
    } else {
      System.out.println("digest:       " + i.digest());
      System.out.println("size:         " + Output.bytes(i.size()) + " (" + i.size() + " bytes)");
      System.out.println("blocks:       " + i.blocks() + " of " + Output.bytes(i.blockSize()) + ", " + d.zeroBlocks()
          + " zero, " + d.distinctBlocks() + " distinct");
      System.out.println("unique bytes: " + Output.bytes(d.uniqueBytes()));
      System.out.println("tags:         " + i.tags().stream().map(Tag::toString).collect(Collectors.joining(", ")));
    }
    return 0;
  }
}
