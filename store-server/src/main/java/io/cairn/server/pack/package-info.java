/**
 * Packs: immutable objects of many compressed blocks, the one format for blocks in a bucket (and
 * later on local disk). Nouns:
 *
 * <ul>
 *   <li><b>pack</b>: header, frames, index, trailer (byte grammar in {@link
 *       io.cairn.server.pack.PackFormat} and docs/scale-out.md), named {@code packs/<sha256 of the
 *       pack's bytes>}, written once by a plain PUT, never modified.
 *   <li><b>frame</b>: one zstd frame holding a <b>group</b> of 1 to 255 consecutive blocks (or the
 *       group raw when zstd would not save space). A block is read by fetching and decompressing
 *       its frame only, never its neighbours' frames.
 *   <li><b>slot</b>: a block's position inside its frame.
 *   <li>{@link io.cairn.server.pack.PackIndex}: block id → (frame offset, frame length, slot),
 *       stored at the pack's tail and located by its fixed-size trailer.
 *   <li>{@link io.cairn.server.pack.PackWriter} streams blocks into packs of a target size, holding
 *       at most one pack in memory; {@link io.cairn.server.pack.PackReader} reads an index from the
 *       tail with one ranged GET and blocks with one ranged GET per frame run, re-hashing every
 *       block.
 * </ul>
 */
package io.cairn.server.pack;
