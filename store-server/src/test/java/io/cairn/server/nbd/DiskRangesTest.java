package io.cairn.server.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.index.IndexPage;
import io.cairn.server.image.DiskMap;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** BLOCK_STATUS extents from the index alone: merging across pages, clipping, and the extent limit. */
class DiskRangesTest {
  private static final int BS = 4096;
  private static final BlockId D = BlockHasher.blockId(new byte[] {1, 2, 3, 4}, 0, 4);
  private static final BlockId Z = BlockId.ZERO;
  /** Pages of 4 blocks: [D Z D D] [all zero] [Z D Z D]; the last block is 1000 bytes short. */
  private static final DiskMap DISK = new DiskMap() {
    @Override
    public long size() {
      return 12L * BS - 1000;
    }

    @Override
    public BlockSize blockSize() {
      return BlockSize.DEFAULT;
    }

    @Override
    public int entriesPerPage() {
      return 4;
    }

    @Override
    public Optional<IndexPage> page(int p) {
      return switch (p) {
        case 0 -> Optional.of(IndexPage.of(List.of(D, Z, D, D)));
        case 1 -> Optional.empty();
        case 2 -> Optional.of(IndexPage.of(List.of(Z, D, Z, D)));
        default -> throw new AssertionError("page " + p + " is past the disk");
      };
    }
  };

  private static DiskRanges.Run run(long from, long to, boolean zero) {
    return new DiskRanges.Run(from, to - from, zero);
  }

  @Test
  void status_wholeDisk_mergesZeroBlocksAcrossPagesAndClipsAtTheEnd() {
    assertEquals(List.of(run(0, BS, false), run(BS, 2 * BS, true), run(2 * BS, 4 * BS, false),
        run(4 * BS, 9 * BS, true), run(9 * BS, 10 * BS, false), run(10 * BS, 11 * BS, true),
        run(11 * BS, 12L * BS - 1000, false)), DiskRanges.status(DISK, 0, 12L * BS, 100));
  }

  @Test
  void status_whenLimitedToOne_returnsTheFirstExtentOnly() {
    assertEquals(List.of(run(4 * BS, 9 * BS, true)), DiskRanges.status(DISK, 4 * BS, 8L * BS, 1));
  }

  @Test
  void status_unalignedRange_startsAndEndsInsideBlocks() {
    assertEquals(List.of(run(5000, 2 * BS, true), run(2 * BS, 15000, false)), DiskRanges.status(DISK, 5000, 10000, 100));
  }
}
