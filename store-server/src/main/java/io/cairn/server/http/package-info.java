/**
 * The HTTP API ({@code cairn serve}), on Undertow. Nouns: an <em>endpoint</em> handles one path
 * shape ({@link io.cairn.server.http.ApiRouter} dispatches by path and method); a <em>frame</em> is
 * one block on the wire, {@code id (32 bytes) | bytes (blockSize)}; a <em>ref</em> names an image
 * by {@code name[:tag]} (mutable, short caching) or {@code sha256:<hex>} (immutable, cached forever).
 * Every handler runs on a worker thread with blocking streams and bounded buffers; exceptions become
 * status codes and JSON bodies in exactly one place, {@link io.cairn.server.http.ErrorMapper}. The
 * wire format is documented in docs/http-api.md.
 */
package io.cairn.server.http;
