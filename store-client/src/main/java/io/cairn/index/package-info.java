/**
 * The paged image index, a two-level Merkle tree. An image version is an {@link
 * io.cairn.index.ImageRoot} (size, block size, page ids) whose hash is the image digest; each
 * {@link io.cairn.index.IndexPage} lists up to 1,024 block ids. Versions that differ in a few
 * blocks share all but a few pages; runs of zero blocks cost one zero page id per 4 MiB. The byte
 * grammar is in docs/design.md.
 */
package io.cairn.index;
