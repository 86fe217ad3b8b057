package io.cairn.client.cli;

import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.id.Tag;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "untag", mixinStandardHelpOptions = true,
    description = "Remove a tag from the server; the image version stays.")
final class UntagCommand implements Callable<Integer> {
  @Mixin ServerOptions opts;

  @Parameters(index = "0", paramLabel = "NAME[:TAG]", description = "Tag to remove.")
  String target;

  @Override
  public Integer call() {
    Tag tag = Tag.parse(target);
    try (CairnClient c = opts.client(false)) {
      c.untag(tag);
    }
    if (opts.json) {
      Output.json(System.out, Map.of("untagged", tag.toString()));
    } else {
      System.out.println("untagged " + tag);
    }
    return 0;
  }
}
