package io.cairn.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.id.ImageDigest;
import io.cairn.id.OverlayName;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An overlay as the server describes it, and the one definition of its JSON form: the server
 * writes it with {@link #toJson()}, the client reads it with {@link #fromJson}, and the CLI's
 * {@code --json} prints the same fields. {@code generation} grows with every change and is part of
 * {@code etag}; {@code dataBlocks} counts the profile's non-zero entries; {@code usage} is present
 * only in the answer to a single overlay's info.
 */
public record OverlayInfo(OverlayName name, String owner, ImageDigest base, long size, long generation, String etag,
    Instant created, long dataBlocks, Optional<Usage> usage) {
  /** What the overlay's profile holds: entries, distinct non-zero blocks and their bytes. */
  public record Usage(long blocksWritten, long distinctBlocks, long dataBytes) {}

  /** The JSON object, fields in a fixed order. */
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name.value());
    m.put("owner", owner);
    m.put("base", base.toString());
    m.put("size", size);
    m.put("generation", generation);
    m.put("etag", etag);
    m.put("created", created.toString());
    m.put("dataBlocks", dataBlocks);
    usage.ifPresent(u -> {
      m.put("blocksWritten", u.blocksWritten());
      m.put("distinctBlocks", u.distinctBlocks());
      m.put("dataBytes", u.dataBytes());
    });
    return m;
  }

  public static OverlayInfo fromJson(JsonNode n) {
    Optional<Usage> usage = n.has("blocksWritten")
        ? Optional.of(new Usage(n.path("blocksWritten").asLong(), n.path("distinctBlocks").asLong(),
            n.path("dataBytes").asLong()))
        : Optional.empty();
    return new OverlayInfo(OverlayName.of(n.path("name").asText()), n.path("owner").asText(),
        ImageDigest.parse(n.path("base").asText()), n.path("size").asLong(), n.path("generation").asLong(),
        n.path("etag").asText(), Instant.parse(n.path("created").asText()), n.path("dataBlocks").asLong(), usage);
  }
}
