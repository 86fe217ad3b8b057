/**
 * The embedded store. {@link io.cairn.server.store.BlockStore} is the block storage seam; {@link
 * io.cairn.server.store.IndexStore} holds pages, roots and tags; {@link
 * io.cairn.server.store.OverlayStore} overlays and their profiles; {@link
 * io.cairn.server.store.SignatureStore} publishers' signatures of tags; {@link
 * io.cairn.server.store.Store} opens a data directory and owns the RocksDB instance. Only the
 * {@code Rocks*} classes and {@code Keys} know keys and column families.
 */
package io.cairn.server.store;
