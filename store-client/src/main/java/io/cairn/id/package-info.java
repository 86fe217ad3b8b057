/**
 * Names. A {@link io.cairn.id.BlockId} names a block of image bytes, a {@link io.cairn.id.PageId}
 * an index page, an {@link io.cairn.id.ImageDigest} one immutable image version (the hash of its
 * root); all three are SHA-256 values held as raw words, never as strings. A {@link
 * io.cairn.id.Tag} ({@code name:tag}) is a mutable pointer to a digest. Text is parsed once, at the
 * edge, and rejected there with {@link io.cairn.id.InvalidIdException}.
 */
package io.cairn.id;
