/**
 * The store's components over an object store (S3, Ceph RGW), behind the seams of {@link
 * io.cairn.server.store}: {@link io.cairn.server.objectstore.ObjectBlockStore}, {@link
 * io.cairn.server.objectstore.ObjectIndexStore}, {@link io.cairn.server.objectstore.ObjectSignatureStore},
 * opened together by {@link io.cairn.server.objectstore.BucketStore}. Nouns:
 *
 * <ul>
 *   <li><b>bucket</b>: the {@link io.cairn.server.objects.ObjectStore} (bucket and prefix) that holds
 *       everything durable; several servers share one and coordinate only by create-only writes.
 *   <li><b>block pack</b> ({@code packs/<sha256>}, {@link io.cairn.server.pack}) and <b>page pack</b>
 *       ({@code pages/<sha256>}, {@link io.cairn.server.objectstore.PagePack}): immutable objects
 *       of many blocks or index pages, content-addressed.
 *   <li><b>location index</b> ({@link io.cairn.server.objectstore.PackedIds}): id → (pack, place in
 *       it), in memory, a cache rebuilt from the packs' tables on open and refreshed from the
 *       bucket when a lookup misses.
 *   <li><b>mutation log</b> ({@link io.cairn.server.objectstore.MutationLog}): numbered create-only
 *       records {@code log/<n>} that mark (pack, id) dead, live again or quarantined, since packs
 *       cannot change.
 *   <li><b>root</b> ({@code roots/<digest hex>}), <b>tag</b> and <b>signature</b> registers
 *       ({@link io.cairn.server.objects.CasRegister} under {@code tags/} and {@code signatures/}).
 * </ul>
 *
 * Key grammar: {@link io.cairn.server.objectstore.ObjectKeys}; byte grammar and write ordering:
 * docs/scale-out.md.
 */
package io.cairn.server.objectstore;
