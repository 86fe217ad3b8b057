/**
 * The FUSE bridge: mounts a Cairn server as a directory tree on a host. Nouns: the
 * <em>catalog</em> is the tree of image files ({@code images/NAME/TAG.raw}, each pinned to the
 * digest its tag named when listed) and overlay files ({@code overlays/NAME.raw}), refreshed from
 * the server at most every 5 s; an <em>open file</em> is what a FUSE file handle points at; image
 * files read through the client's lazy {@link io.cairn.client.ImageReader}; the <em>event log</em>
 * is one line per mount, refresh, flush, reconnect, error or unmount. See docs/fuse.md.
 */
package io.cairn.fuse;
