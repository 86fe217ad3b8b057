package io.cairn.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.id.Sha256Id;
import io.cairn.id.Tag;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The caller's copy-on-write overlays ("profiles") on a template: create one from any image without
 * copying it, read and write it as a disk, freeze it into a new image, reset or delete it. Obtained
 * from {@link CairnClient#overlays()}; thread-safe. Every write is atomic and durable on the server
 * when the call returns.
 */
public final class OverlayClient {
  /** Largest single write request; longer writes are split (each piece atomic on its own). */
  public static final int MAX_WRITE = 16 << 20;
  private static final String OCTETS = "application/octet-stream";

  private final Transport http;

  OverlayClient(Transport http) {
    this.http = http;
  }

  /** A new overlay on {@code base} (pinned to the digest the reference names now). */
  public OverlayInfo create(OverlayName name, ImageRef base) {
    return OverlayInfo.fromJson(http.postJson("/v1/overlays", Map.of("base", base.toString(), "name", name.value())));
  }

  /** The caller's overlays, in name order (every page of the listing). */
  public List<OverlayInfo> list() {
    List<OverlayInfo> out = new ArrayList<>();
    String after = null;
    do {
      JsonNode page = http.getJson("/v1/overlays?limit=1000" + (after == null ? "" : "&after=" + after));
      for (JsonNode n : page.path("overlays")) {
        out.add(OverlayInfo.fromJson(n));
      }
      after = page.path("next").isTextual() ? page.path("next").asText() : null; // names need no escaping
    } while (after != null);
    return out;
  }

  /** The overlay with what its profile holds. */
  public OverlayInfo info(OverlayName name) {
    return OverlayInfo.fromJson(http.getJson(path(name)));
  }

  /** Writes {@code len} bytes at {@code offset}, atomically: all of them land or none. */
  public OverlayInfo write(OverlayName name, long offset, byte[] data, int off, int len) {
    if (len > MAX_WRITE) {
      throw new IllegalArgumentException("one write holds at most " + MAX_WRITE + " bytes; use write(name, offset, Path)");
    }
    HttpResponse<byte[]> r = http.exchange("PUT", path(name) + "/disk", contentRange(offset, len),
        HttpRequest.BodyPublishers.ofByteArray(data, off, len));
    return OverlayInfo.fromJson(http.parseJson(r.body()));
  }

  /**
   * Writes a whole file at {@code offset} in pieces of {@link #MAX_WRITE}; each piece is atomic, the
   * file as a whole is not. Returns the state after the last piece.
   */
  public OverlayInfo write(OverlayName name, long offset, Path file) throws IOException {
    long size = Files.size(file);
    OverlayInfo last = null;
    byte[] buf = new byte[(int) Math.min(MAX_WRITE, Math.max(1, size))];
    try (InputStream in = Files.newInputStream(file)) {
      for (long done = 0; done < size; ) {
        int n = in.readNBytes(buf, 0, (int) Math.min(buf.length, size - done));
        if (n <= 0) {
          throw new IOException(file + " shrank while being written");
        }
        last = write(name, offset + done, buf, 0, n);
        done += n;
      }
    }
    return last != null ? last : info(name);
  }

  /** Reads up to {@code len} bytes at {@code offset} (fewer only at the end of the disk). */
  public int read(OverlayName name, long offset, byte[] dst, int off, int len) {
    if (len == 0) {
      return 0;
    }
    HttpResponse<byte[]> r;
    try {
      r = http.exchange("GET", path(name) + "/disk", Map.of("Range", "bytes=" + offset + "-" + (offset + len - 1)),
          HttpRequest.BodyPublishers.noBody());
    } catch (CairnException e) {
      if (e.code() == ErrorCode.RANGE_NOT_SATISFIABLE) {
        return -1; // at or past the end
      }
      throw e;
    }
    byte[] b = r.body();
    System.arraycopy(b, 0, dst, off, b.length);
    return b.length;
  }

  /** Downloads the whole disk as it stands into {@code dest} (written under a temporary name, then renamed). */
  public void download(OverlayName name, Path dest) throws IOException {
    OverlayInfo info = info(name);
    Path tmp = dest.resolveSibling(dest.getFileName() + ".part");
    byte[] buf = new byte[MAX_WRITE];
    try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      for (long pos = 0; pos < info.size(); ) {
        int n = read(name, pos, buf, 0, (int) Math.min(buf.length, info.size() - pos));
        if (n <= 0) {
          break;
        }
        out.write(java.nio.ByteBuffer.wrap(buf, 0, n), pos);
        pos += n;
      }
      out.force(true);
    }
    Files.move(tmp, dest, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** Block ids of blocks {@code first..first+count-1} (fewer at the end), at one generation. */
  public OverlayMap map(OverlayName name, long first, int count) {
    HttpResponse<byte[]> r = http.exchange("GET", path(name) + "/map?first=" + first + "&count=" + count, Map.of(),
        HttpRequest.BodyPublishers.noBody());
    byte[] b = r.body();
    List<BlockId> ids = new ArrayList<>(b.length / Sha256Id.LENGTH);
    for (int i = 0; i + Sha256Id.LENGTH <= b.length; i += Sha256Id.LENGTH) {
      ids.add(BlockId.fromRaw(b, i));
    }
    long size = Long.parseLong(r.headers().firstValue("Cairn-Size").orElse("-1"));
    long gen = Long.parseLong(r.headers().firstValue("Cairn-Generation").orElse("-1"));
    return new OverlayMap(first, List.copyOf(ids), size, gen);
  }

  /** Grows the disk with zeros; shrinking needs {@code force} and discards what lies past the new end. */
  public OverlayInfo resize(OverlayName name, long size, boolean force) {
    return OverlayInfo.fromJson(http.postJson(path(name) + "/resize", Map.of("size", size, "force", force)));
  }

  /** Discards every change: the overlay reads as its base again. */
  public OverlayInfo reset(OverlayName name) {
    return OverlayInfo.fromJson(http.postJson(path(name) + "/reset", Map.of()));
  }

  public void delete(OverlayName name) {
    http.delete(path(name));
  }

  /**
   * Freezes the overlay's current state as a new immutable image and, if {@code tag} is given
   * (publisher role), tags it: the overlay becomes a template others can clone.
   */
  public ImageInfo snapshot(OverlayName name, Optional<Tag> tag) {
    Map<String, Object> body = new LinkedHashMap<>();
    tag.ifPresent(t -> body.put("tag", t.toString()));
    JsonNode n = http.postJson(path(name) + "/snapshot", body);
    List<Tag> tags = new ArrayList<>();
    n.path("tags").forEach(t -> tags.add(Tag.parse(t.asText())));
    return new ImageInfo(ImageDigest.parse(n.path("digest").asText()), n.path("size").asLong(),
        n.path("blockSize").asInt(), n.path("blocks").asLong(), n.path("pages").asInt(), List.copyOf(tags));
  }

  /** A read/write channel on the overlay's disk; each {@code write} call is one atomic server write. */
  public OverlayChannel open(OverlayName name) {
    return new OverlayChannel(this, name, info(name).size());
  }

  private static String path(OverlayName name) {
    return "/v1/overlays/" + name.value();
  }

  private static Map<String, String> contentRange(long offset, int len) {
    return Map.of("Content-Type", OCTETS, "Content-Range", "bytes " + offset + "-" + (offset + len - 1) + "/*");
  }


}
