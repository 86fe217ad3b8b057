package io.cairn.client.cli;

import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.client.TagInfo;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "tag", mixinStandardHelpOptions = true, description = "Point a tag at an image on the server.")
final class TagCommand implements Callable<Integer> {
  @Mixin ServerOptions opts;

  @Parameters(index = "0", paramLabel = "SOURCE", description = "NAME[:TAG] or sha256:DIGEST of an existing image.")
  String source;

  @Parameters(index = "1", paramLabel = "NAME[:TAG]", description = "Tag to create or move.")
  String target;

  @Override
  public Integer call() {
    ImageRef src = ImageRef.parse(source);
    Tag tag = Tag.parse(target);
    TagInfo t;
    try (CairnClient c = opts.client(false)) {
      t = c.tag(src, tag);
    }
    if (opts.json) {
      Output.json(System.out, Map.of("tag", t.tag().toString(), "digest", t.digest().toString()));
    } else {
      System.out.println("tagged " + t.tag() + " -> " + t.digest());
    }
    return 0;
  }
}
