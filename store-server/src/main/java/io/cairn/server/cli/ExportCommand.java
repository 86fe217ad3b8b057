package io.cairn.server.cli;

import io.cairn.cli.Output;
import io.cairn.cli.Progress;
import io.cairn.error.InvalidInputException;
import io.cairn.id.ImageRef;
import io.cairn.index.ImageRoot;
import io.cairn.server.image.ImageExporter;
import io.cairn.server.image.Images;
import io.cairn.server.store.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "export", description = "Write an image from the local store to a sparse raw file.",
    mixinStandardHelpOptions = true)
final class ExportCommand implements Callable<Integer> {
  @Mixin StoreOptions store;

  @Parameters(index = "0", paramLabel = "NAME[:TAG]|DIGEST")
  String ref;

  @Parameters(index = "1", paramLabel = "OUT", description = "Output file (replaced if it exists).")
  Path out;

  @Option(names = "--json", description = "Print one JSON result instead of text.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    ImageRef r = ImageRef.parse(ref);
    if (Files.isDirectory(out)) {
      throw new InvalidInputException(out + " is a directory; give a file name to export to");
    }
    try (Store s = store.open()) {
      Images images = new Images(s);
      ImageRoot root = images.root(r);
      long t0 = System.nanoTime();
      long written;
      try (Progress p = Progress.start("export", root.size(), json)) {
        written = new ImageExporter(images).export(root, out, p);
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("digest", root.digest().toString());
        m.put("file", out.toString());
        m.put("sizeBytes", root.size());
        m.put("dataBytes", written);
        m.put("seconds", secs);
        Output.json(System.out, m);
      } else {
        System.out.printf("exported %s (%s) to %s: %s, %s of data, %.2f s%n", ref, root.digest(), out,
            Output.bytes(root.size()), Output.bytes(written), secs);
      }
    }
    return 0;
  }
}
