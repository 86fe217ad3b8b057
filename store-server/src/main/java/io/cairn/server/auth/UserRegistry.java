package io.cairn.server.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.id.UserName;
import io.cairn.server.objects.CasConflictException;
import io.cairn.server.objects.CasRegister;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.objects.SharedDocument;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.UnaryOperator;

/**
 * Users and their token hashes in {@code DATA/users.json}. Kept outside RocksDB on purpose: RocksDB
 * admits one process, and {@code cairn user add} must work while the server runs. Changes are made
 * under an exclusive lock on {@code users.lock} and land by atomic rename, so a reader sees the old
 * or the new file, never half of one; the server notices a new file by its modification time and
 * file key on the next request.
 *
 * <p>On a bucket store ({@link #open(ObjectStore)}) the same JSON document is the {@link
 * SharedDocument} {@code users/} (a compare-and-swap register naming an immutable object), so every server sees one user list: a change is a
 * compare-and-swap from the version it was computed on (the loser re-reads and applies its change
 * again). A server re-reads the register (one LIST) at most once a second, and at once when a
 * token is unknown, so a token made through any server works on every other at once; a revoke
 * takes up to a second to reach the others.
 */
public final class UserRegistry {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();
  static final String FILE = "users.json";

  /** How stale a bucket server's user list may be for a token it knows (revokes reach it this late). */
  private static final long SHARED_REFRESH_NANOS = 1_000_000_000L;

  private final Path file;
  private final Path lockFile;
  /** The bucket's users register, or empty for {@code users.json} in a data directory. */
  private final Optional<SharedDocument> shared;
  private volatile long sharedReadNanos;
  private volatile Snapshot current = new Snapshot(null, List.of());

  /** One read of the file: what identified it and the users it held. */
  private record Snapshot(Object version, List<Entry> users) {}

  /** A stored user; {@code tokenHash} is empty after a revoke. */
  private record Entry(UserName name, Role role, Optional<byte[]> tokenHash, Instant created, OptionalLong quota) {
    Entry withToken(Optional<byte[]> h) {
      return new Entry(name, role, h, created, quota);
    }
  }

  /** What {@link #list()} shows of a user: never the token or its hash. */
  public record UserInfo(UserName name, Role role, boolean hasToken, Instant created, OptionalLong quotaBytes) {}

  private UserRegistry(Path dataDir) {
    this.file = dataDir.resolve(FILE);
    this.lockFile = dataDir.resolve("users.lock");
    this.shared = Optional.empty();
  }

  private UserRegistry(ObjectStore bucket) {
    this.file = Path.of("s3:users");
    this.lockFile = file;
    this.shared = Optional.of(new SharedDocument(bucket, "users/"));
  }

  /** The users of a bucket store, shared by every server of the bucket. */
  public static UserRegistry open(ObjectStore bucket) {
    UserRegistry r = new UserRegistry(bucket);
    r.refresh();
    return r;
  }

  /** The users of {@code store}: in its bucket, or in {@code users.json} of its data directory. */
  public static UserRegistry of(io.cairn.server.store.Store store) {
    return store.bucket().map(UserRegistry::open).orElseGet(() -> open(store.dataDir()));
  }

  public static UserRegistry open(Path dataDir) {
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "cannot create " + dataDir + ": " + e, e);
    }
    UserRegistry r = new UserRegistry(dataDir);
    r.refresh();
    return r;
  }

  /** The caller a token belongs to, or empty. Compares hashes in constant time. */
  public Optional<Principal> authenticate(String token) {
    byte[] h = ApiTokens.hash(token);
    Optional<Principal> p = find(refresh().users(), h);
    if (p.isEmpty() && shared.isPresent()) {
      sharedReadNanos = 0; // made through another server a moment ago? read the register now
      p = find(refresh().users(), h);
    }
    return p;
  }

  private static Optional<Principal> find(List<Entry> users, byte[] h) {
    Principal found = null;
    for (Entry e : users) {
      // Every entry is compared, so the time taken does not say which user a near-miss matched.
      if (e.tokenHash().isPresent() && MessageDigest.isEqual(e.tokenHash().get(), h) && found == null) {
        found = new Principal(e.name(), e.role());
      }
    }
    return Optional.ofNullable(found);
  }

  public List<UserInfo> list() {
    return refresh().users().stream()
        .map(e -> new UserInfo(e.name(), e.role(), e.tokenHash().isPresent(), e.created(), e.quota()))
        .toList();
  }

  public Optional<UserInfo> find(UserName name) {
    return list().stream().filter(u -> u.name().equals(name)).findFirst();
  }

  public boolean isEmpty() {
    return refresh().users().isEmpty();
  }

  /** Creates a user and returns its token, which is not stored and cannot be shown again. */
  public String add(UserName name, Role role) {
    String token = ApiTokens.generate();
    update(users -> {
      if (users.stream().anyMatch(e -> e.name().equals(name))) {
        throw new CairnException(ErrorCode.CONFLICT, "user " + name + " exists; use 'cairn user token " + name
            + "' for a new token");
      }
      List<Entry> out = new ArrayList<>(users);
      out.add(new Entry(name, role, Optional.of(ApiTokens.hash(token)), Instant.now(), OptionalLong.empty()));
      return out;
    });
    return token;
  }

  /**
   * Creates user {@code admin} when there is no user at all and returns its token; empty when users
   * exist. Done under the lock, so two servers starting at once cannot both mint one.
   */
  public Optional<String> bootstrapAdmin() {
    String token = ApiTokens.generate();
    boolean[] created = {false};
    update(users -> {
      if (!users.isEmpty()) {
        return users;
      }
      created[0] = true;
      return List.of(new Entry(UserName.of("admin"), Role.ADMIN, Optional.of(ApiTokens.hash(token)), Instant.now(),
          OptionalLong.empty()));
    });
    return created[0] ? Optional.of(token) : Optional.empty();
  }

  /** Replaces a user's token; the old one stops working at once. */
  public String newToken(UserName name) {
    String token = ApiTokens.generate();
    replace(name, e -> e.withToken(Optional.of(ApiTokens.hash(token))));
    return token;
  }

  /** Removes a user's token: every request with it gets 401 until {@link #newToken}. */
  public void revoke(UserName name) {
    replace(name, e -> e.withToken(Optional.empty()));
  }

  /** Sets (or with an empty value clears) the limit on bytes unique to the user's overlays. */
  public void setQuota(UserName name, OptionalLong bytes) {
    replace(name, e -> new Entry(e.name(), e.role(), e.tokenHash(), e.created(), bytes));
  }

  private void replace(UserName name, UnaryOperator<Entry> change) {
    update(users -> {
      List<Entry> out = new ArrayList<>();
      boolean seen = false;
      for (Entry e : users) {
        seen |= e.name().equals(name);
        out.add(e.name().equals(name) ? change.apply(e) : e);
      }
      if (!seen) {
        throw new CairnException(ErrorCode.NOT_FOUND, "no user " + name + "; 'cairn user list' shows them");
      }
      return out;
    });
  }

  private synchronized void update(UnaryOperator<List<Entry>> change) {
    if (shared.isPresent()) {
      updateShared(shared.get(), change);
      return;
    }
    try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = ch.lock()) {
      List<Entry> before = read().users();
      List<Entry> after = change.apply(before);
      if (after != before) {
        write(after);
      }
      refresh();
    } catch (IOException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "cannot update " + file + ": " + e, e);
    }
  }

  private void updateShared(SharedDocument doc, UnaryOperator<List<Entry>> change) {
    while (true) {
      SharedDocument.State state = doc.read();
      List<Entry> before = parse(state.content().orElse(null), "the bucket's users document");
      List<Entry> after = change.apply(before);
      if (after == before) {
        current = new Snapshot(state.version().seq(), before);
        return;
      }
      try {
        CasRegister.Version moved = doc.compareAndSet(state.version(), serialize(after));
        current = new Snapshot(moved.seq(), List.copyOf(after));
        sharedReadNanos = System.nanoTime();
        return;
      } catch (CasConflictException e) {
        // Another server changed the users meanwhile: apply this change to what it wrote.
      }
    }
  }

  /** The users as of the file on disk now; re-reads it only when it was replaced. */
  private Snapshot refresh() {
    if (shared.isPresent()) {
      Snapshot s = current;
      long now = System.nanoTime();
      if (s.version() != null && now - sharedReadNanos < SHARED_REFRESH_NANOS) {
        return s;
      }
      SharedDocument.State state;
      try {
        state = shared.get().read();
      } catch (io.cairn.server.objects.ObjectUnavailableException e) {
        if (s.version() == null) {
          throw e;
        }
        // The bucket is down: the users as last read, so requests a cache can serve still work. No
        // change can be written meanwhile; one made just before the outage arrives after it.
        return s;
      }
      if (!Long.valueOf(state.version().seq()).equals(s.version())) {
        s = new Snapshot(state.version().seq(), parse(state.content().orElse(null), "the bucket's users document"));
        current = s;
      }
      sharedReadNanos = now;
      return s;
    }
    Snapshot s = current;
    Object version = version();
    if (version != null && version.equals(s.version())) {
      return s;
    }
    try {
      s = read();
    } catch (IOException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "cannot read " + file + ": " + e, e);
    }
    current = s;
    return s;
  }

  private Object version() {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      return List.of(a.lastModifiedTime(), String.valueOf(a.fileKey()), a.size());
    } catch (IOException e) {
      return null;
    }
  }

  private Snapshot read() throws IOException {
    Object version = version();
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return new Snapshot(null, List.of());
    }
    return new Snapshot(version, parse(bytes, file.toString()));
  }

  /** The users in a {@code users.json} document; none for {@code null} (never written). */
  private static List<Entry> parse(byte[] bytes, String where) {
    if (bytes == null) {
      return List.of();
    }
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (IOException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, where + " is not JSON: " + e.getMessage(), e);
    }
    if (root == null || root.path("version").asInt() != 1 || !root.path("users").isArray()) {
      throw new StoreException(ErrorCode.STORE_FORMAT, where + " is not a Cairn user file (version 1)");
    }
    List<Entry> users = new ArrayList<>();
    for (JsonNode u : root.get("users")) {
      JsonNode h = u.get("token_sha256");
      JsonNode q = u.get("quota_bytes");
      users.add(new Entry(UserName.of(u.path("name").asText()), Role.parse(u.path("role").asText()),
          h == null || h.isNull() ? Optional.empty() : Optional.of(HEX.parseHex(h.asText())),
          Instant.parse(u.path("created").asText()),
          q == null || q.isNull() ? OptionalLong.empty() : OptionalLong.of(q.asLong())));
    }
    return List.copyOf(users);
  }

  private void write(List<Entry> users) throws IOException {
    byte[] bytes = serialize(users);
    Path tmp = file.resolveSibling(FILE + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(java.nio.ByteBuffer.wrap(bytes));
      // Synced before the rename: a crash must leave the old file or the whole new one.
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      dir.force(true); // the rename itself must survive power loss too
    }
  }

  private static byte[] serialize(List<Entry> users) {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", 1);
    ArrayNode arr = root.putArray("users");
    for (Entry e : users) {
      ObjectNode u = arr.addObject();
      u.put("name", e.name().value());
      u.put("role", e.role().label());
      if (e.tokenHash().isPresent()) {
        u.put("token_sha256", HEX.formatHex(e.tokenHash().get()));
      } else {
        u.putNull("token_sha256");
      }
      u.put("created", e.created().toString());
      if (e.quota().isPresent()) {
        u.put("quota_bytes", e.quota().getAsLong());
      } else {
        u.putNull("quota_bytes");
      }
    }
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
