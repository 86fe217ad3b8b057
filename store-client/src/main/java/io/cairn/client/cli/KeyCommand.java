package io.cairn.client.cli;

import io.cairn.cli.Output;
import io.cairn.sign.KeyFiles;
import io.cairn.sign.SigningKey;
import io.cairn.sign.VerifyingKey;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairn key ...}: Ed25519 signing keys for signed tags. Works offline. */
@Command(name = "key", mixinStandardHelpOptions = true,
    description = "Ed25519 keys for signed tags: generate a key pair, show a key file's id.",
    subcommands = {KeyCommand.Generate.class, KeyCommand.Id.class})
final class KeyCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("cairn key: say what to do: generate or id (cairn key --help)");
    return 2;
  }

  @Command(name = "generate", mixinStandardHelpOptions = true,
      description = "Write a new signing key to KEYFILE (mode 0600) and its public key to KEYFILE.pub.")
  static final class Generate implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "KEYFILE", description = "Private key file to create.")
    Path out;

    @Option(names = "--json", description = "Print one JSON document with the result instead of text.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      SigningKey key = SigningKey.generate(new SecureRandom());
      KeyFiles.write(key, out);
      Path pub = KeyFiles.publicKeyPath(out);
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("keyId", key.id().toHex());
        m.put("privateKey", out.toString());
        m.put("publicKey", pub.toString());
        Output.json(System.out, m);
      } else {
        System.out.println("key id " + key.id() + ": signing key " + out + " (keep it secret), public key " + pub
            + " (give it to hosts: cairn pull --trust " + pub + ")");
      }
      return 0;
    }
  }

  @Command(name = "id", mixinStandardHelpOptions = true, description = "Print the key id of a key file (private or .pub).")
  static final class Id implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "KEYFILE", description = "A key file made by 'cairn key generate', or its .pub.")
    Path file;

    @Override
    public Integer call() throws Exception {
      VerifyingKey k = KeyFiles.readVerifyingKey(file);
      System.out.println(k.id());
      return 0;
    }
  }
}
