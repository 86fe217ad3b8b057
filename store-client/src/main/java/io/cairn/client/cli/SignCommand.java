package io.cairn.client.cli;

import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.ImageDigest;
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

@Command(name = "sign", mixinStandardHelpOptions = true,
    description = "Sign the image a tag points at (digest + tag) and store the signature on the server.")
final class SignCommand implements Callable<Integer> {
  @Mixin ServerOptions opts;

  @Parameters(index = "0", paramLabel = "NAME[:TAG]", description = "Tag to sign (tag defaults to latest).")
  String name;

  @Option(names = "--key", required = true, paramLabel = "KEYFILE", description = "Signing key from 'cairn key generate'.")
  Path keyFile;

  @Option(names = "--digest", paramLabel = "sha256:DIGEST",
      description = "Sign only if the tag points at this digest (guards against signing a tag someone just moved).")
  String expected;

  @Override
  public Integer call() throws Exception {
    Tag tag = Tag.parse(name);
    SigningKey key = KeyFiles.readSigningKey(keyFile);
    ImageSignature s;
    try (CairnClient c = opts.client(false)) {
      ImageDigest now = c.describe(io.cairn.id.ImageRef.of(tag)).digest();
      if (expected != null && !ImageDigest.parse(expected).equals(now)) {
        throw new CairnException(ErrorCode.CONFLICT, tag + " points at " + now + ", not " + expected
            + "; nothing was signed");
      }
      s = c.sign(tag, now, key);
    }
    print(s, opts.json);
    return 0;
  }

  static void print(ImageSignature s, boolean json) {
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("tag", s.tag().toString());
      m.put("digest", s.digest().toString());
      m.put("keyId", s.keyId().toHex());
      Output.json(System.out, m);
    } else {
      System.out.println("signed " + s.tag() + " (" + s.digest() + ") with key " + s.keyId());
    }
  }
}
