package io.cairn.client;

/**
 * An image version with counts computed from its index: zero blocks, distinct non-zero blocks, and
 * the bytes those distinct blocks hold ({@code uniqueBytes}, what a cold pull transfers at most).
 */
public record ImageDetails(ImageInfo image, long zeroBlocks, long distinctBlocks, long uniqueBytes) {}
