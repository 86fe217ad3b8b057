package io.cairn.sign;

import io.cairn.id.ImageDigest;
import io.cairn.id.Tag;
import java.nio.charset.StandardCharsets;

/**
 * The exact bytes a signature covers (docs/design.md, "Signed tags"):
 *
 * <pre>
 * "cairn-signature-v1\n" "sha256:" hex(digest) "\n" name ":" tag "\n"      (UTF-8)
 * </pre>
 *
 * The version line keeps a v1 signature from ever verifying as some later payload; the tag is in
 * the payload so a signature for {@code app:1} cannot be replayed for {@code app:latest}.
 */
public final class SignedPayload {
  /** First line of every version-1 payload, without its newline. */
  public static final String MAGIC = "cairn-signature-v1";

  private SignedPayload() {}

  public static byte[] encode(ImageDigest digest, Tag tag) {
    return (MAGIC + "\n" + digest + "\n" + tag + "\n").getBytes(StandardCharsets.UTF_8);
  }
}
