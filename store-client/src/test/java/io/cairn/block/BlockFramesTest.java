package io.cairn.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cairn.error.InvalidInputException;
import io.cairn.id.BlockId;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BlockFramesTest {
  static final int BS = 4096;
  final BlockFrames codec = new BlockFrames(BS);

  /** {@code n} random blocks back to back, and their ids. */
  static byte[] blocks(int n, List<BlockId> ids) {
    byte[] b = new byte[n * BS];
    new Random(n).nextBytes(b);
    for (int i = 0; i < n; i++) {
      ids.add(BlockHasher.hashBlock(b, i * BS, BS));
    }
    return b;
  }

  @Test
  void encode_thenReader_givesTheSameIdsAndBlocksInOrder() throws Exception {
    List<BlockId> ids = new ArrayList<>();
    byte[] data = blocks(5, ids);
    byte[] body = new byte[(int) codec.bodyBytes(5)];
    assertEquals(5 * (32 + BS), codec.encode(ids, data, body));
    assertEquals(5, codec.count(body.length));

    BlockFrames.Reader r = codec.reader(new ByteArrayInputStream(body), 100); // smaller than a frame: still works
    byte[] got = new byte[5 * BS + 7];
    for (int i = 0; i < 5; i++) {
      assertEquals(ids.get(i), r.next(got, 7 + i * BS));
      assertEquals(ids.get(i), codec.id(body, i));
      assertArrayEquals(Arrays.copyOfRange(data, i * BS, (i + 1) * BS),
          Arrays.copyOfRange(body, codec.blockOffset(i), codec.blockOffset(i) + BS));
    }
    assertArrayEquals(data, Arrays.copyOfRange(got, 7, 7 + 5 * BS));
  }

  @Test
  void put_writesTheSameBytesAsEncode() {
    List<BlockId> ids = new ArrayList<>();
    byte[] data = blocks(3, ids);
    byte[] a = new byte[(int) codec.bodyBytes(3)];
    byte[] b = new byte[a.length];
    codec.encode(ids, data, a);
    for (int i = 2; i >= 0; i--) {
      codec.put(b, i, ids.get(i), data, i * BS);
    }
    assertArrayEquals(a, b);
  }

  @Test
  void reader_whenStreamEndsInsideAFrame_throwsEof() throws Exception {
    List<BlockId> ids = new ArrayList<>();
    byte[] body = new byte[(int) codec.bodyBytes(2)];
    codec.encode(ids, blocks(2, ids), body);
    BlockFrames.Reader r = codec.reader(new ByteArrayInputStream(body, 0, body.length - 1), 1 << 16);
    byte[] dst = new byte[BS];
    assertEquals(ids.get(0), r.next(dst, 0));
    assertThrows(EOFException.class, () -> r.next(dst, 0));
  }

  @Test
  void count_whenNotWholeFrames_throwsInvalidInput() {
    assertEquals(0, codec.count(0));
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> codec.count(codec.bodyBytes(3) - 1));
    assertEquals(true, e.getMessage().contains("4128-byte frames"), e.getMessage());
  }
}
