package io.cairn.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.id.ProfileName;
import io.cairn.sign.SigningKey;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;

class VmProfileTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static VmProfile parse(String json) throws Exception {
    return VmProfile.fromJson(JSON.readTree(json));
  }

  @Test
  void canonical_whenFieldsComeInAnyOrderAndSpacing_isOneFixedByteString() throws Exception {
    VmProfile a = parse("{\"network\": {\"gateway\": \"10.0.0.1\", \"pool\": \"10.0.0.0/24\", \"bridge\": \"br0\"},"
        + " \"memoryBytes\": 1073741824, \"cpus\": 2, \"template\": \"debian:12\"}");
    // Signatures cover these bytes: changing them breaks every signed profile, so they are pinned here.
    assertEquals("{\"template\":\"debian:12\",\"cpus\":2,\"memoryBytes\":1073741824,\"network\":{\"bridge\":\"br0\","
        + "\"macPrefix\":\"52:54:00\",\"pool\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\",\"dns\":[]},\"firmware\":\"bios\"}",
        new String(a.canonical(), StandardCharsets.UTF_8));
    VmProfile b = parse(new String(a.canonical(), StandardCharsets.UTF_8));
    assertEquals(a.digest(), b.digest());
  }

  @Test
  void signature_whenNameOrDigestDiffers_doesNotVerify() throws Exception {
    VmProfile p = parse("{\"template\": \"t:1\", \"cpus\": 1, \"memoryBytes\": 16777216,"
        + " \"network\": {\"network\": \"default\", \"pool\": \"10.0.0.0/30\", \"gateway\": \"10.0.0.1\"}}");
    SigningKey k = SigningKey.generate(new SecureRandom());
    ProfileSignature s = ProfileSignature.sign(k, ProfileName.of("web"), p.digest());
    assertTrue(s.verifies(ProfileName.of("web"), p.digest()));
    assertFalse(s.verifies(ProfileName.of("db"), p.digest()));
    VmProfile other = parse("{\"template\": \"t:1\", \"cpus\": 2, \"memoryBytes\": 16777216,"
        + " \"network\": {\"network\": \"default\", \"pool\": \"10.0.0.0/30\", \"gateway\": \"10.0.0.1\"}}");
    assertFalse(s.verifies(ProfileName.of("web"), other.digest()));
    assertEquals(s.keyId(), ProfileSignature.fromJson(JSON.valueToTree(s.toJson())).keyId());
  }

  @Test
  void pool_assignable_excludesNetworkBroadcastGatewayAndDns() {
    Ipv4Pool p = Ipv4Pool.parse("192.168.7.0/29", "192.168.7.1", List.of("192.168.7.6", "8.8.8.8"), "network");
    List<Long> free = new java.util.ArrayList<>();
    for (long a = p.first(); a <= p.last(); a++) {
      if (p.assignable(a)) {
        free.add(a);
      }
    }
    assertEquals(List.of("192.168.7.2", "192.168.7.3", "192.168.7.4", "192.168.7.5"),
        free.stream().map(Ipv4::format).toList());
    FieldInvalidException e = assertThrows(FieldInvalidException.class,
        () -> Ipv4Pool.parse("192.168.7.0/31", "192.168.7.1", List.of(), "network"));
    assertEquals("network.pool", e.field());
    assertThrows(FieldInvalidException.class, () -> Ipv4.parse("10.0.0.01", "x"));
  }

  @Test
  void macPrefix_mac_fillsTheRemainingOctets() {
    MacPrefix m = MacPrefix.parse("52:54:00", "macPrefix");
    assertEquals(1L << 24, m.size());
    assertEquals("52:54:00:00:01:ff", m.mac(0x1ff));
    assertEquals("02:aa:bb:cc:dd:07", MacPrefix.parse("02:aa:bb:cc:dd", "m").mac(7));
    assertEquals("macPrefix", assertThrows(FieldInvalidException.class, () -> MacPrefix.parse("01:00:5e", "macPrefix")).field());
  }
}
