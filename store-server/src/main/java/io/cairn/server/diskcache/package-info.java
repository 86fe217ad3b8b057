/**
 * The disk cache: sparse raw copies of the image versions hosts read as plain disks, kept next to
 * the store within a byte budget, so the HTTP server can send a hot template with {@code sendfile}.
 * A copy is derived data, made from the store and deletable at any time. See docs/http-api.md,
 * "Disk cache".
 */
package io.cairn.server.diskcache;
