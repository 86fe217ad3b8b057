package io.cairn.client.cli;

import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.client.PublishResult;
import io.cairn.id.Tag;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "push", mixinStandardHelpOptions = true,
    description = "Publish a raw or qcow2 disk image to a Cairn server, sending only the blocks it lacks.")
final class PushCommand implements Callable<Integer> {
  @Mixin ServerOptions opts;

  @Parameters(index = "0", paramLabel = "FILE", description = "Raw or qcow2 image file.")
  Path file;

  @Parameters(index = "1", paramLabel = "NAME[:TAG]", description = "Tag to publish under (tag defaults to latest).")
  String name;

  @Override
  public Integer call() throws Exception {
    Tag tag = Tag.parse(name);
    PublishResult r;
    try (CairnClient c = opts.client(false); ProgressBridge bar = new ProgressBridge("push", opts.json)) {
      r = c.publish(file, tag, bar);
    }
    if (opts.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("tag", tag.toString());
      m.put("digest", r.digest().toString());
      m.put("size", r.size());
      m.put("bytesRead", r.bytesRead());
      m.put("bytesSent", r.bytesSent());
      m.put("blocksSent", r.blocksSent());
      m.put("blocksReused", r.blocksReused());
      m.put("zeroBlocks", r.zeroBlocks());
      m.put("pagesSent", r.pagesSent());
      m.put("seconds", r.seconds());
      Output.json(System.out, m);
    } else {
      System.out.printf("pushed %s (%s) %s: %s sent, %d blocks sent, %d reused, %d zero — %.1f s%n", tag, r.digest(),
          Output.bytes(r.size()), Output.bytes(r.bytesSent()), r.blocksSent(), r.blocksReused(), r.zeroBlocks(),
          r.seconds());
    }
    return 0;
  }
}
