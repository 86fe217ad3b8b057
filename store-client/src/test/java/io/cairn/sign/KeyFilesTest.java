package io.cairn.sign;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.error.InvalidInputException;
import io.cairn.id.Tag;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyFilesTest {
  @TempDir Path dir;

  @Test
  void write_thenRead_givesTheSameKeyPairAndAWorkingSignature() throws Exception {
    SigningKey k = SigningKey.generate(new SecureRandom());
    Path f = dir.resolve("release.key");
    KeyFiles.write(k, f);

    SigningKey back = KeyFiles.readSigningKey(f);
    assertArrayEquals(k.toRaw(), back.toRaw());
    assertEquals(k.id(), back.id());
    VerifyingKey pub = KeyFiles.readVerifyingKey(dir.resolve("release.key.pub"));
    assertEquals(k.verifyingKey(), pub);
    assertEquals(k.verifyingKey(), KeyFiles.readVerifyingKey(f), "a private key file also yields its public half");
    ImageSignature s = back.sign(SignedPayloadTest.DIGEST, Tag.parse("a:b"));
    assertTrue(ImageSignature.of(Tag.parse("a:b"), SignedPayloadTest.DIGEST, pub, s.signature()).isValid());
  }

  @Test
  void write_makesThePrivateKeyOwnerOnly() throws Exception {
    Path f = dir.resolve("k");
    KeyFiles.write(SigningKey.generate(new SecureRandom()), f);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
  }

  @Test
  void write_whenEitherFileExists_refusesAndKeepsIt() throws Exception {
    Path f = dir.resolve("k");
    Files.writeString(f, "precious");
    assertThrows(FileAlreadyExistsException.class, () -> KeyFiles.write(SigningKey.generate(new SecureRandom()), f));
    assertEquals("precious", Files.readString(f));

    Path g = dir.resolve("g");
    Files.writeString(dir.resolve("g.pub"), "old");
    assertThrows(FileAlreadyExistsException.class, () -> KeyFiles.write(SigningKey.generate(new SecureRandom()), g));
    assertTrue(Files.notExists(g));
  }

  @Test
  void fileText_isTheDocumentedFormat() throws Exception {
    SigningKey k = SignedPayloadTest.rfcKey();
    Path f = dir.resolve("rfc.key");
    KeyFiles.write(k, f);
    String seed64 = java.util.Base64.getEncoder().encodeToString(HexFormat.of().parseHex(SignedPayloadTest.RFC_SECRET));
    String pub64 = java.util.Base64.getEncoder().encodeToString(HexFormat.of().parseHex(SignedPayloadTest.RFC_PUBLIC));
    String[] priv = Files.readString(f).split("\n");
    assertEquals(4, priv.length);
    assertTrue(priv[0].startsWith("# Cairn Ed25519 signing key " + k.id()), priv[0]);
    assertEquals("-----BEGIN CAIRN ED25519 PRIVATE KEY-----", priv[1]);
    assertEquals(seed64, priv[2]);
    assertEquals("-----END CAIRN ED25519 PRIVATE KEY-----", priv[3]);
    String[] pub = Files.readString(dir.resolve("rfc.key.pub")).split("\n");
    assertEquals("-----BEGIN CAIRN ED25519 PUBLIC KEY-----", pub[1]);
    assertEquals(pub64, pub[2]);
    assertEquals("-----END CAIRN ED25519 PUBLIC KEY-----", pub[3]);
  }

  @Test
  void read_acceptsCommentsAndCrLfAndWrappedBase64() throws Exception {
    String pub64 = java.util.Base64.getEncoder().encodeToString(HexFormat.of().parseHex(SignedPayloadTest.RFC_PUBLIC));
    Path f = dir.resolve("edited.pub");
    Files.writeString(f, "some note\r\n-----BEGIN CAIRN ED25519 PUBLIC KEY-----\r\n" + pub64.substring(0, 20) + "\r\n"
        + pub64.substring(20) + "\r\n-----END CAIRN ED25519 PUBLIC KEY-----\r\ntrailing\r\n");
    assertEquals(SignedPayloadTest.RFC_PUBLIC, KeyFiles.readVerifyingKey(f).toHex());
  }

  @Test
  void read_rejectsMalformedFilesWithTheFileName() throws Exception {
    Path pubOnly = dir.resolve("only.pub");
    KeyFiles.write(SigningKey.generate(new SecureRandom()), dir.resolve("only"));
    Files.move(dir.resolve("only.pub"), pubOnly, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    InvalidInputException notPrivate = assertThrows(InvalidInputException.class, () -> KeyFiles.readSigningKey(pubOnly));
    assertTrue(notPrivate.getMessage().contains("not a signing (private) key"), notPrivate.getMessage());

    Path junk = dir.resolve("junk");
    Files.writeString(junk, "ssh-ed25519 AAAA...");
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> KeyFiles.readVerifyingKey(junk));
    assertTrue(e.getMessage().contains(junk.toString()) && e.getMessage().contains("not a Cairn key file"), e.getMessage());

    Path shortKey = dir.resolve("short");
    Files.writeString(shortKey, "-----BEGIN CAIRN ED25519 PUBLIC KEY-----\nAAAA\n-----END CAIRN ED25519 PUBLIC KEY-----\n");
    InvalidInputException s = assertThrows(InvalidInputException.class, () -> KeyFiles.readVerifyingKey(shortKey));
    assertTrue(s.getMessage().contains("32 bytes, this one is 3"), s.getMessage());

    Path unterminated = dir.resolve("open");
    Files.writeString(unterminated, "-----BEGIN CAIRN ED25519 PUBLIC KEY-----\nAAAA\n");
    assertThrows(InvalidInputException.class, () -> KeyFiles.readVerifyingKey(unterminated));
  }
}
