package io.cairn.server.http;

import io.cairn.block.BlockFrames;
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
 * {@code POST /v1/blocks}: a body of frames ({@link BlockFrames}: {@code id | block}). The whole body is received and every
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
    BlockFrames codec = new BlockFrames(bs);
    long declared = ex.getRequestContentLength();
    if (declared >= 0 && declared <= maxBody) {
      codec.count(declared); // refuse before reading: the body cannot be whole frames
    }
    byte[] body = Requests.body(ex, maxBody);
    int n = codec.count(body.length);
    for (int i = 0; i < n; i++) {
      BlockId claimed = codec.id(body, i);
      if (claimed.isZero()) {
        throw new InvalidInputException(ErrorCode.BLOCK_INVALID, "frame " + i
            + " has the reserved zero block id; zero blocks are never uploaded");
      }
      BlockId actual = BlockHasher.hashBlock(body, codec.blockOffset(i), bs);
      if (!actual.equals(claimed)) {
        throw new BlockCorruptException(ErrorCode.BLOCK_INVALID, claimed, actual,
            "in frame " + i + " of the upload (nothing from this request was stored)");
      }
    }
    int stored = 0;
    // A client told "stored" may commit an image naming these blocks, and the commit must never name
    // blocks a crash could lose: the embedded store syncs its WAL at flush; a bucket store packs
    // uploads across requests and stores the open pack in the commit's completeness check instead.
    try (BlockInserter ins = blocks.newUploadInserter()) {
      for (int i = 0; i < n; i++) {
        if (ins.insert(codec.id(body, i), body, codec.blockOffset(i))) {
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
}
