package io.cairn.client;

import io.cairn.id.BlockId;
import java.util.List;

/**
 * The block ids of a run of an overlay's blocks as they stood at {@code generation}: what a host
 * needs to read the overlay through its block cache.
 */
public record OverlayMap(long firstBlock, List<BlockId> ids, long size, long generation) {}
