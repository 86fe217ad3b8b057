package io.cairn.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.id.ImageRef;
import io.cairn.id.InvalidIdException;
import io.cairn.id.ProfileDigest;
import io.cairn.index.IndexFormat;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * What every VM of a profile gets: the template its disk is an overlay of, vCPUs, memory, disk size
 * (absent: the template's size), network, firmware and optional cloud-init user data.
 * {@link #fromJson} checks every field and names the bad one; {@link #canonical()} is the byte form
 * the version digest and signatures cover (fields in a fixed order, no whitespace).
 */
public record VmProfile(ImageRef template, int cpus, long memoryBytes, OptionalLong diskBytes, NetworkSpec network,
    Firmware firmware, Optional<String> userData) {
  public static final int MAX_CPUS = 512;
  public static final long MIB = 1L << 20;
  public static final long MIN_MEMORY = 16 * MIB;
  public static final long MAX_MEMORY = 16L << 40;
  public static final int MAX_USER_DATA = 64 * 1024;
  static final Set<String> FIELDS = Set.of("template", "cpus", "memoryBytes", "diskBytes", "network", "firmware", "userData");
  private static final ObjectMapper JSON = new ObjectMapper();

  public enum Firmware {
    BIOS, UEFI;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static VmProfile fromJson(JsonNode n) {
    Json.onlyFields(n, "", FIELDS);
    ImageRef template;
    String t = Json.text(n, "", "template");
    try {
      template = ImageRef.parse(t);
    } catch (InvalidIdException e) {
      throw new FieldInvalidException("template", e.getMessage() + " (give NAME:TAG or sha256:DIGEST of a template)");
    }
    int cpus = (int) Json.integer(n, "", "cpus", 1, MAX_CPUS);
    long memory = Json.integer(n, "", "memoryBytes", MIN_MEMORY, MAX_MEMORY);
    if (memory % MIB != 0) {
      throw new FieldInvalidException("memoryBytes", "must be a whole number of MiB (1048576 bytes), got " + memory);
    }
    OptionalLong disk = OptionalLong.empty();
    if (Json.has(n, "diskBytes")) {
      long d = Json.integer(n, "", "diskBytes", 512, IndexFormat.MAX_IMAGE_SIZE);
      if (d % 512 != 0) {
        throw new FieldInvalidException("diskBytes", "must be a multiple of 512 (a sector), got " + d);
      }
      disk = OptionalLong.of(d);
    }
    if (!Json.has(n, "network")) {
      throw new FieldInvalidException("network", "is required: {\"bridge\" or \"network\", \"pool\", \"gateway\", \"dns\"}");
    }
    NetworkSpec net = NetworkSpec.fromJson(n.get("network"), "network");
    Firmware fw = Firmware.BIOS;
    if (Json.has(n, "firmware")) {
      String f = Json.text(n, "", "firmware");
      fw = switch (f) {
        case "bios" -> Firmware.BIOS;
        case "uefi" -> Firmware.UEFI;
        default -> throw new FieldInvalidException("firmware", "must be \"bios\" or \"uefi\", got '" + f + "'");
      };
    }
    Optional<String> userData = Optional.empty();
    if (Json.has(n, "userData")) {
      String u = Json.text(n, "", "userData");
      if (u.length() > MAX_USER_DATA) {
        throw new FieldInvalidException("userData", "is " + u.length() + " characters; the limit is " + MAX_USER_DATA);
      }
      if (!u.startsWith("#")) {
        throw new FieldInvalidException("userData", "must start with a cloud-init header such as '#cloud-config' or '#!'");
      }
      if (u.indexOf('\0') >= 0) {
        throw new FieldInvalidException("userData", "must not contain NUL characters");
      }
      userData = Optional.of(u);
    }
    return new VmProfile(template, cpus, memory, disk, net, fw, userData);
  }

  /** The JSON object, fields in the canonical order. */
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("template", template.toString());
    m.put("cpus", cpus);
    m.put("memoryBytes", memoryBytes);
    diskBytes.ifPresent(d -> m.put("diskBytes", d));
    m.put("network", network.toJson());
    m.put("firmware", firmware.label());
    userData.ifPresent(u -> m.put("userData", u));
    return m;
  }

  /** The bytes the version digest and signatures cover: {@link #toJson()} without whitespace, UTF-8. */
  public byte[] canonical() {
    try {
      return JSON.writeValueAsBytes(toJson());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  public ProfileDigest digest() {
    return ProfileDigest.of(canonical());
  }
}
