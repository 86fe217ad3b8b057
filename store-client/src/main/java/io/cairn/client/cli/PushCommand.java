package io.cairn.client.cli;

import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.client.PublishResult;
import io.cairn.id.Tag;
import io.cairn.sign.ImageSignature;
import io.cairn.sign.KeyFiles;
import io.cairn.sign.SigningKey;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "push", mixinStandardHelpOptions = true,
    description = "Publish a raw or qcow2 disk image to a Cairn server, sending only the blocks it lacks.")
final class PushCommand implements Callable<Integer> {
  @Mixin ServerOptions opts;

  @Parameters(index = "0", paramLabel = "FILE", description = "Raw or qcow2 image file.")
  Path file;

  @Parameters(index = "1", paramLabel = "NAME[:TAG]", description = "Tag to publish under (tag defaults to latest).")
  String name;

  @Option(names = "--sign", paramLabel = "KEYFILE",
      description = "Also sign the pushed digest and tag with this key (from 'cairn key generate').")
  Path signKey;

  @Override
  public Integer call() throws Exception {
    Tag tag = Tag.parse(name);
    // Read the key before pushing: a typo in --sign must not leave an unsigned image behind.
    SigningKey key = signKey == null ? null : KeyFiles.readSigningKey(signKey);
    PublishResult r;
    ImageSignature signature = null;
    try (CairnClient c = opts.client(false); ProgressBridge bar = new ProgressBridge("push", opts.json)) {
      r = c.publish(file, tag, bar);
      if (key != null) {
        // Signs the digest computed from the file here, not whatever the tag points at by now.
        signature = c.sign(tag, r.digest(), key);
      }
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
      if (signature != null) {
        m.put("keyId", signature.keyId().toHex());
      }
      Output.json(System.out, m);
    } else {
      System.out.printf("pushed %s (%s) %s: %s sent, %d blocks sent, %d reused, %d zero — %.1f s%n", tag, r.digest(),
          Output.bytes(r.size()), Output.bytes(r.bytesSent()), r.blocksSent(), r.blocksReused(), r.zeroBlocks(),
          r.seconds());
      if (signature != null) {
        System.out.println("signed " + tag + " with key " + signature.keyId());
      }
    }
    return 0;
  }
}
