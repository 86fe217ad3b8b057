/**
 * Operational metrics in the Prometheus text format ({@code GET /metrics}), on Micrometer. Nouns: a
 * <em>meter</em> is one named series family (counter, gauge or timer); a <em>route</em> label is the
 * shape of a request path ({@code /v1/images/{ref}/disk}), never the raw path, so the number of
 * series stays bounded whatever clients ask for; a <em>store sample</em> is one consistent reading
 * of the store's totals, taken once per scrape. {@link io.cairn.server.metrics.Metrics} is the only
 * entry point; GC and verify report their runs through it. Names and meanings are listed in
 * docs/operations.md.
 */
package io.cairn.server.metrics;
