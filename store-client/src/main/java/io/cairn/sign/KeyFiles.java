package io.cairn.sign;

import io.cairn.error.InvalidInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Key files: PEM-style text (RFC 7468 framing) around the base64 of the raw 32-byte key, with a
 * comment line naming the key id. Lines outside the BEGIN/END frame are ignored.
 *
 * <pre>
 * # Cairn Ed25519 signing key 1a2b3c4d5e6f7a8b. Keep this file secret.
 * -----BEGIN CAIRN ED25519 PRIVATE KEY-----
 * base64(32-byte seed)
 * -----END CAIRN ED25519 PRIVATE KEY-----
 * </pre>
 *
 * The public key file ({@code KEYFILE.pub}) is the same with {@code PUBLIC KEY} and the 32-byte
 * public key. Private key files are created mode 0600 and never overwritten.
 */
public final class KeyFiles {
  static final String PRIVATE_LABEL = "CAIRN ED25519 PRIVATE KEY";
  static final String PUBLIC_LABEL = "CAIRN ED25519 PUBLIC KEY";
  private static final Set<PosixFilePermission> OWNER_ONLY = EnumSet.of(PosixFilePermission.OWNER_READ,
      PosixFilePermission.OWNER_WRITE);

  private KeyFiles() {}

  /** Where {@link #write} puts the public key of {@code keyFile}: the same path plus {@code .pub}. */
  public static Path publicKeyPath(Path keyFile) {
    return keyFile.resolveSibling(keyFile.getFileName() + ".pub");
  }

  /**
   * Writes {@code key} to {@code keyFile} (mode 0600) and its public key to {@code keyFile.pub}.
   * Refuses to replace either file: overwriting a signing key by mistake cannot be undone.
   */
  public static void write(SigningKey key, Path keyFile) throws IOException {
    Path pub = publicKeyPath(keyFile);
    for (Path p : List.of(keyFile, pub)) {
      if (Files.exists(p)) {
        throw new FileAlreadyExistsException(p.toString(), null, "a key file is never overwritten; choose another"
            + " --out or remove it first");
      }
    }
    byte[] seed = key.toRaw();
    try {
      writeNew(keyFile, encode(PRIVATE_LABEL, seed, "# Cairn Ed25519 signing key " + key.id()
          + ". Keep this file secret; publish " + pub.getFileName() + " instead."), true);
    } finally {
      java.util.Arrays.fill(seed, (byte) 0);
    }
    writeNew(pub, encode(PUBLIC_LABEL, key.verifyingKey().toRaw(), "# Cairn Ed25519 public key " + key.id()
        + ". Hosts trust it with: cairn pull --trust " + pub.getFileName()), false);
  }

  /** Reads a private key file. */
  public static SigningKey readSigningKey(Path file) throws IOException {
    Frame f = read(file);
    if (!f.label().equals(PRIVATE_LABEL)) {
      throw new InvalidInputException(file + " holds a " + f.label().toLowerCase(java.util.Locale.ROOT)
          + ", not a signing (private) key; sign with the key file made by 'cairn key generate', not its .pub");
    }
    return SigningKey.fromRaw(f.raw());
  }

  /** Reads a public key file, or the public half of a private key file. */
  public static VerifyingKey readVerifyingKey(Path file) throws IOException {
    Frame f = read(file);
    return f.label().equals(PRIVATE_LABEL) ? SigningKey.fromRaw(f.raw()).verifyingKey() : VerifyingKey.fromRaw(f.raw());
  }

  static String encode(String label, byte[] raw, String comment) {
    return comment + "\n-----BEGIN " + label + "-----\n" + Base64.getEncoder().encodeToString(raw)
        + "\n-----END " + label + "-----\n";
  }

  record Frame(String label, byte[] raw) {}

  private static Frame read(Path file) throws IOException {
    if (Files.size(file) > 64 * 1024) {
      throw new InvalidInputException(file + " is too large to be a Cairn key file");
    }
    return decode(Files.readString(file, StandardCharsets.UTF_8), file.toString());
  }

  /** Parses one framed key; {@code where} names the source in error messages. */
  static Frame decode(String text, String where) {
    String label = null;
    List<String> body = new ArrayList<>();
    boolean ended = false;
    for (String line : text.split("\r?\n", -1)) {
      String l = line.strip();
      if (label == null) {
        if (l.startsWith("-----BEGIN ") && l.endsWith("-----")) {
          label = l.substring(11, l.length() - 5);
        }
      } else if (l.equals("-----END " + label + "-----")) {
        ended = true;
        break;
      } else {
        body.add(l);
      }
    }
    if (label == null || !ended || !(label.equals(PRIVATE_LABEL) || label.equals(PUBLIC_LABEL))) {
      throw new InvalidInputException(where + " is not a Cairn key file (expected a '-----BEGIN " + PUBLIC_LABEL
          + "-----' or '" + PRIVATE_LABEL + "' block; make keys with 'cairn key generate')");
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(String.join("", body));
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(where + ": the key is not valid base64: " + e.getMessage());
    }
    if (raw.length != 32) {
      throw new InvalidInputException(where + ": an Ed25519 key is 32 bytes, this one is " + raw.length);
    }
    return new Frame(label, raw);
  }

  private static void writeNew(Path file, String text, boolean secret) throws IOException {
    List<FileAttribute<?>> attrs = new ArrayList<>();
    boolean posix = Files.getFileStore(file.toAbsolutePath().getParent()).supportsFileAttributeView("posix");
    if (secret && posix) {
      // Set at creation: the key is never readable by others, not even between create and chmod.
      attrs.add(PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    }
    try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
        attrs.toArray(FileAttribute[]::new))) {
      ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) {
        ch.write(b);
      }
      // A key reported as written must survive a power cut: losing it loses the publisher's identity.
      ch.force(true);
    }
    if (secret && posix) {
      Files.setPosixFilePermissions(file, OWNER_ONLY); // exactly 0600 whatever the umask did
    }
  }
}
