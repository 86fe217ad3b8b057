/**
 * Deploying groups of VMs from templates (docs/deploy.md): VM profiles, hosts and placement,
 * deployments with their leased identities, and what a host needs to start each VM.
 *
 * <p>Nouns (the wire forms are in {@code io.cairn.deploy}):
 * <ul>
 *   <li>{@link Profiles}: versioned VM profiles, like tags over immutable, digest-named versions.
 *   <li>{@link Hosts}: registered hosts with capacity; live while heartbeats arrive in time.
 *   <li>{@link Deployments}: allocates a deploy's names, UUIDs, MACs, IPs and host capacity under
 *       one lock, creates the VMs' overlays, and records the deployment with all its leases in one
 *       atomic, synced write; releases them on undeploy.
 *   <li>{@link Launch}: renders a VM's libvirt domain XML, qemu command line (disk = the VM's
 *       overlay over NBD with TLS) and cloud-init NoCloud seed.
 *   <li>{@link DeployRecords}: the records' keys and JSON, over the store's
 *       {@link io.cairn.server.store.RecordStore} seam.
 * </ul>
 *
 * <p>Crash safety: before creating a deploy's overlays a {@code pending} record names them; the
 * commit that records the deployment and its leases deletes it in the same batch. A crash in
 * between leaves the pending record, and the next start deletes those overlays. So a leased
 * identity is either recorded with its VM or not at all, and no overlay outlives a failed deploy.
 */
package io.cairn.server.deploy;
