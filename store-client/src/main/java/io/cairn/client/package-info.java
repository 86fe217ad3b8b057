/**
 * The Java client of a Cairn server. {@link io.cairn.client.CairnClient} publishes disk images
 * (raw or qcow2) and pulls them into sparse files, sending and fetching only the blocks the other
 * side lacks. Nouns: a <em>publish</em> hashes an image locally and uploads missing blocks and
 * pages before committing its root; a <em>pull</em> rebuilds an image from the local block cache,
 * <em>seed</em> files (local images that likely share blocks) and the server, verifying every block.
 * Everything talks to the server only through its HTTP API (docs/http-api.md).
 */
package io.cairn.client;
