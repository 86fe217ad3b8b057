package io.cairn.client.cli;

import io.cairn.client.CairnClient;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "rmi", mixinStandardHelpOptions = true,
    description = "Delete an image version (publisher). Given NAME:TAG, removes that tag first. The space returns"
        + " at the next garbage collection; a version still tagged or used by an overlay is kept, with a message.")
final class RmiCommand implements Callable<Integer> {
  @Mixin ServerOptions opts;

  @Parameters(index = "0", paramLabel = "NAME:TAG|DIGEST")
  String ref;

  @Override
  public Integer call() {
    ImageRef r = ImageRef.parse(ref);
    try (CairnClient c = opts.client(false)) {
      ImageDigest d = c.describe(r).digest();
      if (r instanceof ImageRef.ByTag t) {
        c.untag(t.tag());
        System.out.println("untagged " + t.tag());
      }
      c.deleteImage(d);
      System.out.println("deleted " + d);
    }
    return 0;
  }
}
