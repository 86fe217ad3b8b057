package io.cairn.server.store;

import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexFormat;
import io.cairn.index.IndexPage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** What the store contracts share: the fixture's life cycle and test data. */
public abstract class StoreContractSupport {
  protected static final BlockSize BS = BlockSize.DEFAULT;
  private StoreFixture fixture;
  protected StoreFixture.Parts store;

  /** A new fixture for an empty store; called before each test. */
  protected abstract StoreFixture fixture();

  @BeforeEach
  void openStore() {
    fixture = fixture();
    store = fixture.open();
  }

  @AfterEach
  void closeStore() {
    fixture.close();
  }

  protected void reopen() {
    store = fixture.reopen();
  }

  /** A distinct, non-zero block: {@code n} in its first bytes, a pattern after. */
  protected static byte[] block(int n) {
    byte[] b = new byte[BS.bytes()];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (i * 31 + n);
    }
    b[0] = (byte) (n >>> 24);
    b[1] = (byte) (n >>> 16);
    b[2] = (byte) (n >>> 8);
    b[3] = (byte) n;
    b[4] = 1;
    return b;
  }

  protected static BlockId id(int n) {
    return BlockHasher.hashBlock(block(n), 0, BS.bytes());
  }

  /** Inserts blocks {@code from..to-1} through one inserter and flushes it. */
  protected List<BlockId> insert(int from, int to) {
    List<BlockId> ids = new ArrayList<>();
    try (BlockInserter ins = store.blocks().newInserter(BlockStore.Durability.BULK)) {
      for (int n = from; n < to; n++) {
        ins.insert(id(n), block(n), 0);
        ids.add(id(n));
      }
      ins.flush();
    }
    return ids;
  }

  protected byte[] read(List<BlockId> ids) {
    byte[] dst = new byte[ids.size() * BS.bytes()];
    store.blocks().read(ids, dst, 0);
    return dst;
  }

  protected static byte[] concat(int... ns) {
    byte[] out = new byte[ns.length * BS.bytes()];
    for (int i = 0; i < ns.length; i++) {
      byte[] b = ns[i] < 0 ? new byte[BS.bytes()] : block(ns[i]);
      System.arraycopy(b, 0, out, i * BS.bytes(), b.length);
    }
    return out;
  }

  protected static IndexPage page(int from, int to) {
    List<BlockId> ids = new ArrayList<>();
    for (int n = from; n < to; n++) {
      ids.add(id(n));
    }
    return IndexPage.of(ids);
  }

  /** A root of one page of {@code page.count()} blocks. */
  protected static ImageRoot root(IndexPage page) {
    return ImageRoot.of((long) page.count() * BS.bytes(), BS, IndexFormat.ENTRIES_PER_PAGE, List.of(page.id()));
  }

  protected static PageId[] ids(IndexPage... pages) {
    return Arrays.stream(pages).map(IndexPage::id).toArray(PageId[]::new);
  }
}
