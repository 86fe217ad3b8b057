package io.cairn.server.objects;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * A document of any size that several servers change with compare-and-swap: the content is an
 * immutable object {@code documents/<hex SHA-256>} (plain put, content-addressed), and a {@link
 * CasRegister} holds its key. The register's entries stay small (its values are limited to 64 KiB),
 * and a reader always finds the content an entry names, since it is stored before the entry.
 * Replaced contents stay in the bucket until garbage collection on a bucket exists.
 */
public final class SharedDocument {
  static final String DOCUMENTS = "documents/";

  private final ObjectStore store;
  private final CasRegister register;
  /** The last content read or written, by key: contents are immutable, so it is never stale. */
  private volatile String cachedKey = "";
  private volatile byte[] cached;

  /** One state: the register's version (pass it back to {@link #compareAndSet}) and the content, if any. */
  public record State(CasRegister.Version version, Optional<byte[]> content) {}

  /** @param registerDir the register's key prefix, ending in '/'; never under {@code documents/} */
  public SharedDocument(ObjectStore store, String registerDir) {
    if (registerDir.startsWith(DOCUMENTS)) {
      throw new IllegalArgumentException("a register under " + DOCUMENTS + " would list the contents: " + registerDir);
    }
    this.store = store;
    this.register = new CasRegister(store, registerDir);
  }

  /** The latest state: one LIST, plus a GET of the register entry and of the content when they changed. */
  public State read() {
    CasRegister.Version v = register.read();
    if (v.value().isEmpty()) {
      return new State(v, Optional.empty());
    }
    String key = new String(v.value().get(), java.nio.charset.StandardCharsets.US_ASCII);
    if (!key.equals(cachedKey)) {
      byte[] content = store.readAll(key);
      if (!key.equals(keyOf(content))) {
        throw new ObjectStoreException(io.cairn.error.ErrorCode.STORE_FORMAT, key, "does not hash to its name", null);
      }
      cached = content;
      cachedKey = key;
    }
    return new State(v, Optional.of(cached.clone()));
  }

  /**
   * Stores {@code content}, then moves the register from {@code from} to it; {@link
   * CasConflictException} when the register moved meanwhile (the content stays, unnamed).
   */
  public CasRegister.Version compareAndSet(CasRegister.Version from, byte[] content) {
    String key = keyOf(content);
    store.put(key, content, 0, content.length); // before the entry that names it
    CasRegister.Version moved = register.compareAndSet(from, key.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    cached = content.clone();
    cachedKey = key;
    if (moved.seq() % 16 == 0) {
      register.compact(); // keeps the register's listing short; never removes its head
    }
    return moved;
  }

  private static String keyOf(byte[] content) {
    try {
      return DOCUMENTS + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
