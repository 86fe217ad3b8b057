/**
 * The web dashboard at {@code /ui/}: static <em>assets</em> (one HTML page, a style sheet, plain
 * JavaScript; no build step, nothing fetched from elsewhere at run time) packed into this jar and
 * served by {@link io.cairn.server.ui.UiAssets}; and the optional <em>history</em> of a few meters,
 * read from a configured Prometheus by {@link io.cairn.server.ui.PrometheusHistory}. The page reads
 * everything else from the ordinary {@code /v1} API with the token the operator enters, so it can
 * show nothing that token could not fetch itself.
 */
package io.cairn.server.ui;
