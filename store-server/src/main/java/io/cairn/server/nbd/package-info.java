/**
 * The NBD (Network Block Device) server: the store's images and overlays as block devices that qemu,
 * qemu-img, qemu-io, libvirt, fio and the kernel's nbd-client attach to directly.
 *
 * <p>Nouns:
 * <ul>
 *   <li>An <em>export</em> is one disk a client may attach, named by what it serves: {@code image/REF}
 *       (an image version by tag or digest, read-only, pinned to the digest the tag named when the
 *       client attached) or {@code overlay/NAME} (the authenticated user's overlay, read-write).
 *   <li>The <em>handshake</em> is NBD's fixed-newstyle option haggling (STARTTLS, GO/INFO, LIST,
 *       STRUCTURED_REPLY, meta contexts); it ends with a <em>session</em>: the export chosen and what
 *       was negotiated.
 *   <li><em>Transmission</em> is the request loop of one session: READ, WRITE, FLUSH, TRIM,
 *       WRITE_ZEROES, BLOCK_STATUS, DISC.
 *   <li>The <em>peer</em> is who the client is: the Cairn user named by the CN of a TLS client
 *       certificate signed by the configured client CA, or anonymous.
 * </ul>
 *
 * <p>Durability: every write is committed to the overlay (one atomic, logged {@code
 * Overlays.writeLogged}) before its reply is sent, so it survives a kill -9 of the server; FLUSH,
 * and FUA on a write, sync the log before their reply, so flushed writes also survive a power cut.
 * See docs/nbd.md.
 */
package io.cairn.server.nbd;
