package io.cairn.server.http;

import io.cairn.block.BlockHasher;
import io.cairn.error.BlockCorruptException;
import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import io.cairn.id.BlockId;
import io.cairn.server.store.BlockInserter;
import io.cairn.server.store.BlockStore;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code POST /v1/blocks}: a body of frames {@code id | bytes}. The whole body is received and every
 * block re-hashed before the first insert, so a bad block, a short frame or a connection that
 * closes mid-body leaves the store exactly as it was. The price is buffering one request (at most
 * --max-body bytes); publishers split large uploads into several requests.
 */
final class UploadEndpoint {
  private final BlockStore blocks;
  private final long maxBody;
  private final ServerCounters counters;

  UploadEndpoint(BlockStore blocks, long maxBody, ServerCounters counters) {
    this.blocks = blocks;
    this.maxBody = maxBody;
    this.counters = counters;
  }

  void upload(HttpServerExchange ex) throws IOException {
    Requests.requireType(ex, Responses.BLOCKS_TYPE, Responses.OCTETS);
    int bs = blocks.blockSize().bytes();
    int frame = BlockId.LENGTH + bs;
    long declared = ex.getRequestContentLength();
    if (declared >= 0 && declared <= maxBody && declared % frame != 0) {
      throw badLength(declared, frame); // refuse before reading: the body cannot be whole frames
    }
    byte[] body = Requests.body(ex, maxBody);
    if (body.length % frame != 0) {
      throw badLength(body.length, frame);
    }
    int n = body.length / frame;
    for (int i = 0; i < n; i++) {
      int off = i * frame;
      BlockId claimed = BlockId.fromRaw(body, off);
      if (claimed.isZero()) {
        throw new InvalidInputException(ErrorCode.BLOCK_INVALID, "frame " + i
            + " has the reserved zero block id; zero blocks are never uploaded");
      }
      BlockId actual = BlockHasher.hashBlock(body, off + BlockId.LENGTH, bs);
      if (!actual.equals(claimed)) {
        throw new BlockCorruptException(ErrorCode.BLOCK_INVALID, claimed, actual,
            "in frame " + i + " of the upload (nothing from this request was stored)");
      }
    }
    int stored = 0;
    // Logged, and flushed (WAL synced) before we answer: a client told "stored" may commit an
    // image naming these blocks, and the commit must never name blocks a crash could lose.
    try (BlockInserter ins = blocks.newInserter(BlockStore.Durability.LOGGED)) {
      for (int i = 0; i < n; i++) {
        int off = i * frame;
        if (ins.insert(BlockId.fromRaw(body, off), body, off + BlockId.LENGTH)) {
          stored++;
        }
      }
      ins.flush();
    }
    counters.storeGeneration.incrementAndGet();
    counters.blockBytesReceived.addAndGet((long) n * bs);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("received", n);
    r.put("stored", stored);
    r.put("present", n - stored);
    Responses.json(ex, 200, r);
  }

  private static InvalidInputException badLength(long len, int frame) {
    return new InvalidInputException("upload body of " + len + " bytes is not a whole number of " + frame
        + "-byte frames (32-byte id + block); was it truncated?");
  }
}
