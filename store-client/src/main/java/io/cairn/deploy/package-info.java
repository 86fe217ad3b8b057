/**
 * VM deployment as the server and its clients both see it: the one definition of each JSON form.
 *
 * <p>Nouns:
 * <ul>
 *   <li>A <em>VM profile</em> ({@link VmProfile}) is a template reference plus vCPUs, memory, disk
 *       size, network, firmware and cloud-init user data. Profiles are versioned like tags: each put
 *       makes an immutable version named by the SHA-256 of its canonical JSON ({@link
 *       io.cairn.id.ProfileDigest}); the profile's name points at the latest. A version may carry
 *       a publisher's {@link ProfileSignature}.
 *   <li>A <em>pool</em> ({@link Ipv4Pool}) is an IPv4 network in CIDR form with a gateway and DNS
 *       servers; its <em>free</em> addresses exclude the network, broadcast, gateway and DNS ones.
 *   <li>A <em>host</em> ({@link HostInfo}) registered with a capacity (vCPUs, memory) and is
 *       <em>live</em> while its heartbeats arrive within the server's timeout.
 *   <li>A <em>deployment</em> ({@link DeploymentInfo}) is the group of VMs ({@link VmInfo}) one
 *       deploy call made; each VM holds <em>leases</em> on a name, a UUID, a MAC and an IP that no
 *       other live VM holds, and a share of its host's capacity.
 * </ul>
 */
package io.cairn.deploy;
