package io.cairn.client;

/**
 * What a lazy reader has done so far: bytes copied out of cached blocks, bytes of blocks it waited
 * for from the server (read-ahead that no read has used yet is not counted), bytes of zero blocks
 * served without any request, and reads served.
 */
public record ReadStats(long bytesFromCache, long bytesFetched, long zeroBytes, long reads) {}
