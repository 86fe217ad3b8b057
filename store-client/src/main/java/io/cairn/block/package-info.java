/**
 * Blocks: the fixed-size, aligned pieces an image is cut into, their size ({@link
 * io.cairn.block.BlockSize}) and their hashing ({@link io.cairn.block.BlockHasher}). A block whose
 * bytes are all zero has the reserved id {@link io.cairn.id.BlockId#ZERO} and is never stored.
 */
package io.cairn.block;
