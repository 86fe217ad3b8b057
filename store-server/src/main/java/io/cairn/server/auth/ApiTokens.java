package io.cairn.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * API tokens: {@code cairn_} + 256 random bits in base64url. Only the SHA-256 of a token is stored;
 * a fast hash is enough because a token is random, not a password someone could guess.
 */
final class ApiTokens {
  static final String PREFIX = "cairn_";
  private static final SecureRandom RANDOM = new SecureRandom();

  private ApiTokens() {}

  static String generate() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  static byte[] hash(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }
}
