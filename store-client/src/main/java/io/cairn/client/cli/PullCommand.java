package io.cairn.client.cli;

import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.client.PullOptions;
import io.cairn.client.PullResult;
import io.cairn.id.ImageRef;
import io.cairn.sign.TrustSet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "pull", mixinStandardHelpOptions = true,
    description = "Fetch an image into a sparse raw file, reusing blocks from the local cache and seed files.")
final class PullCommand implements Callable<Integer> {
  @Mixin ServerOptions opts;

  @Parameters(index = "0", paramLabel = "NAME[:TAG]|DIGEST", description = "Image to pull.")
  String ref;

  @Parameters(index = "1", paramLabel = "FILE", description = "Raw image file to write (replaced when complete).")
  Path file;

  @Option(names = "--seed", paramLabel = "FILE", description = "Local image whose blocks may be reused (repeatable).")
  List<Path> seeds = new ArrayList<>();

  @Option(names = "--no-sync", description = "Do not fsync the file before renaming it into place.")
  boolean noSync;

  @Option(names = "--trust", paramLabel = "KEYFILE.pub",
      description = "Accept the image only if this key signed it (repeatable; env CAIRN_TRUST: colon-separated paths).")
  List<Path> trust = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    ImageRef r = ImageRef.parse(ref);
    PullOptions.Builder pb = PullOptions.builder().seeds(seeds).sync(!noSync);
    // The trust set is every key named by --trust and CAIRN_TRUST: a host-wide policy in the
    // environment cannot be dropped by adding a key on the command line.
    List<Path> keyFiles = new ArrayList<>(trust);
    keyFiles.addAll(TrustSet.parsePathList(System.getenv("CAIRN_TRUST")));
    if (!keyFiles.isEmpty()) {
      pb.trust(TrustSet.load(keyFiles));
    }
    PullOptions po = pb.build();
    PullResult p;
    try (CairnClient c = opts.client(true); ProgressBridge bar = new ProgressBridge("pull", opts.json)) {
      p = c.pull(r, file, po, bar);
    }
    if (opts.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("ref", ref);
      m.put("digest", p.digest().toString());
      m.put("file", file.toString());
      m.put("size", p.size());
      m.put("bytesFetched", p.bytesFetched());
      m.put("bytesFromCache", p.bytesFromCache());
      m.put("bytesFromSeeds", p.bytesFromSeeds());
      m.put("zeroBytes", p.zeroBytes());
      m.put("pagesFetched", p.pagesFetched());
      m.put("seconds", p.seconds());
      m.put("signedBy", p.signature().map(s -> s.keyId().toHex()).orElse(null));
      Output.json(System.out, m);
    } else {
      System.out.printf("pulled %s (%s) %s: %s fetched, %s from cache, %s from seeds, %s zero — %.1f s%n", ref,
          p.digest(), Output.bytes(p.size()), Output.bytes(p.bytesFetched()), Output.bytes(p.bytesFromCache()),
          Output.bytes(p.bytesFromSeeds()), Output.bytes(p.zeroBytes()), p.seconds());
      p.signature().ifPresent(s -> System.out.println("signature verified: " + s.tag() + " (" + s.digest()
          + ") signed by trusted key " + s.keyId()));
    }
    return 0;
  }
}
