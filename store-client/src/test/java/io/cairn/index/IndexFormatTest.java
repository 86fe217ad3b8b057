package io.cairn.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class IndexFormatTest {
  private static BlockId block(int n) {
    return BlockHasher.hashBlock(ByteBuffer.allocate(4).putInt(0, n + 1));
  }

  private static ImageRoot build(long size, List<IndexPage> sink, java.util.function.LongFunction<BlockId> id) {
    BlockSize bs = BlockSize.DEFAULT;
    IndexBuilder b = new IndexBuilder(size, bs, sink::add);
    for (long i = 0; i < bs.blocksFor(size); i++) {
      b.add(id.apply(i));
    }
    return b.finish();
  }

  @Test
  void root_parse_roundTripsEncodedBytes() {
    List<IndexPage> pages = new ArrayList<>();
    ImageRoot root = build(5L * 1024 * 4096 + 100, pages, i -> block((int) i));
    assertEquals(6, root.pageCount());
    assertEquals(6, pages.size());
    assertEquals(1, root.entriesInPage(5));
    ImageRoot again = ImageRoot.parse(root.encoded());
    assertEquals(root.digest(), again.digest());
    assertEquals(root.size(), again.size());
    for (int p = 0; p < pages.size(); p++) {
      assertEquals(pages.get(p).id(), root.pageId(p));
      IndexPage parsed = IndexPage.parse(pages.get(p).encoded());
      assertArrayEquals(pages.get(p).encoded(), parsed.encoded());
      assertEquals(block(p * 1024), parsed.blockId(0));
    }
  }

  @Test
  void builder_whenPageIsAllZero_emitsZeroPageIdAndNoPage() {
    List<IndexPage> pages = new ArrayList<>();
    ImageRoot root = build(3L * 1024 * 4096, pages, i -> i >= 1024 && i < 2048 ? BlockId.ZERO : block((int) i));
    assertEquals(2, pages.size());
    assertEquals(PageId.ZERO, root.pageId(1));
  }

  @Test
  void builder_addZeros_equalsAddingZeroBlocksOneByOne() {
    long size = 5000L * 4096;
    IndexBuilder a = new IndexBuilder(size, BlockSize.DEFAULT, p -> {});
    a.add(block(1));
    a.addZeros(4998);
    a.add(block(2));
    ImageRoot ra = a.finish();
    ImageRoot rb = build(size, new ArrayList<>(), i -> i == 0 ? block(1) : i == 4999 ? block(2) : BlockId.ZERO);
    assertEquals(rb.digest(), ra.digest());
  }

  @Test
  void emptyImage_hasNoPagesAndAStableDigest() {
    ImageRoot r = new IndexBuilder(0, BlockSize.DEFAULT, p -> {}).finish();
    assertEquals(0, r.pageCount());
    assertEquals(r.digest(), ImageRoot.parse(r.encoded()).digest());
  }

  @Test
  void parse_whenTruncatedOrTampered_throwsFormatError() {
    ImageRoot root = build(4096 * 10, new ArrayList<>(), i -> block((int) i));
    byte[] enc = root.encoded();
    assertThrows(IndexFormatException.class, () -> ImageRoot.parse(java.util.Arrays.copyOf(enc, enc.length - 1)));
    byte[] badVersion = enc.clone();
    badVersion[4] = 2;
    assertThrows(IndexFormatException.class, () -> ImageRoot.parse(badVersion));
    byte[] badSize = enc.clone();
    badSize[15] = 0x7f; // size claims more pages than listed
    assertThrows(IndexFormatException.class, () -> ImageRoot.parse(badSize));
    assertThrows(IndexFormatException.class, () -> IndexPage.parse(new byte[7]));
  }
}
