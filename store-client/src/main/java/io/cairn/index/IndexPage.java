package io.cairn.index;

import io.cairn.block.BlockHasher;
import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import io.cairn.id.Sha256Id;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * One page of an image's block list: up to {@link IndexFormat#ENTRIES_PER_PAGE} block ids.
 *
 * <pre>
 * Page := magic "CPG1" | count u32 (big-endian, 1..entriesPerPage) | count x BlockId (32 bytes)
 * </pre>
 *
 * A page whose every entry is {@link BlockId#ZERO} is never encoded: the root names it {@link
 * PageId#ZERO}. Instances hold the encoded bytes, which are what is hashed, stored and sent.
 */
public final class IndexPage {
  private final byte[] encoded;
  private PageId id;

  private IndexPage(byte[] encoded) {
    this.encoded = encoded;
  }

  /** Encodes ids; the list must not be empty. */
  public static IndexPage of(List<BlockId> ids) {
    if (ids.isEmpty() || ids.size() > IndexFormat.ENTRIES_PER_PAGE) {
      throw new IllegalArgumentException("a page holds 1.." + IndexFormat.ENTRIES_PER_PAGE + " ids");
    }
    ByteBuffer b = ByteBuffer.allocate(IndexFormat.PAGE_HEADER + ids.size() * Sha256Id.LENGTH);
    b.putInt(IndexFormat.PAGE_MAGIC).putInt(ids.size());
    for (BlockId id : ids) {
      id.copyRawTo(b);
    }
    return new IndexPage(b.array());
  }

  /** Parses and checks the structure (not the hash: see {@link #id()}). */
  public static IndexPage parse(byte[] encoded) {
    if (encoded.length < IndexFormat.PAGE_HEADER) {
      throw new IndexFormatException("index page is " + encoded.length + " bytes, shorter than its header");
    }
    ByteBuffer b = ByteBuffer.wrap(encoded);
    if (b.getInt() != IndexFormat.PAGE_MAGIC) {
      throw new IndexFormatException("index page does not start with the page magic CPG1");
    }
    int count = b.getInt();
    if (count < 1 || count > IndexFormat.ENTRIES_PER_PAGE
        || encoded.length != IndexFormat.PAGE_HEADER + count * Sha256Id.LENGTH) {
      throw new IndexFormatException("index page length " + encoded.length + " does not match its count " + count);
    }
    return new IndexPage(encoded);
  }

  public int count() {
    return (encoded.length - IndexFormat.PAGE_HEADER) / Sha256Id.LENGTH;
  }

  public BlockId blockId(int i) {
    return BlockId.fromRaw(encoded, IndexFormat.PAGE_HEADER + i * Sha256Id.LENGTH);
  }

  /** Every entry, zero blocks included, in block order. */
  public List<BlockId> blockIds() {
    List<BlockId> ids = new java.util.ArrayList<>(count());
    for (int i = 0; i < count(); i++) {
      ids.add(blockId(i));
    }
    return ids;
  }

  /** The encoded bytes; callers must not modify them. */
  public byte[] encoded() {
    return encoded;
  }

  public PageId id() {
    if (id == null) {
      id = BlockHasher.pageId(encoded);
    }
    return id;
  }
}
