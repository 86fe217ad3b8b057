package io.cairn.index;

import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.id.ImageDigest;
import io.cairn.id.PageId;
import io.cairn.id.Sha256Id;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The root of an image version: its size, block size and the ids of its index pages. The image
 * digest is the SHA-256 of the encoded root.
 *
 * <pre>
 * Root := magic "CIMG" | version u8 (=1) | log2(blockSize) u8 | reserved u16 (=0)
 *       | entriesPerPage u32 | size u64 | pageCount u32 | reserved u32 (=0)
 *       | pageCount x PageId (32 bytes)
 * </pre>
 *
 * All integers are big-endian. {@code pageCount = ceil(ceil(size / blockSize) / entriesPerPage)}:
 * every page but the last is full. Names and tags are not part of the root, so the same content
 * published under two names has one digest.
 */
public final class ImageRoot {
  private final byte[] encoded;
  private final BlockSize blockSize;
  private final int entriesPerPage;
  private final long size;
  private final int pageCount;
  private ImageDigest digest;

  private ImageRoot(byte[] encoded, BlockSize blockSize, int entriesPerPage, long size, int pageCount) {
    this.encoded = encoded;
    this.blockSize = blockSize;
    this.entriesPerPage = entriesPerPage;
    this.size = size;
    this.pageCount = pageCount;
  }

  static int pagesFor(long size, BlockSize blockSize, int entriesPerPage) {
    return Math.toIntExact((blockSize.blocksFor(size) + entriesPerPage - 1) / entriesPerPage);
  }

  public static ImageRoot of(long size, BlockSize blockSize, int entriesPerPage, List<PageId> pages) {
    if (size < 0 || size > IndexFormat.MAX_IMAGE_SIZE) {
      throw new IllegalArgumentException("image size out of range: " + size);
    }
    if (pages.size() != pagesFor(size, blockSize, entriesPerPage)) {
      throw new IllegalArgumentException("an image of " + size + " bytes needs "
          + pagesFor(size, blockSize, entriesPerPage) + " pages, got " + pages.size());
    }
    ByteBuffer b = ByteBuffer.allocate(IndexFormat.ROOT_HEADER + pages.size() * Sha256Id.LENGTH);
    b.putInt(IndexFormat.ROOT_MAGIC).put((byte) IndexFormat.VERSION).put((byte) blockSize.log2()).putShort((short) 0);
    b.putInt(entriesPerPage).putLong(size).putInt(pages.size()).putInt(0);
    for (PageId p : pages) {
      p.copyRawTo(b);
    }
    return new ImageRoot(b.array(), blockSize, entriesPerPage, size, pages.size());
  }

  public static ImageRoot parse(byte[] encoded) {
    if (encoded.length < IndexFormat.ROOT_HEADER) {
      throw new IndexFormatException("image root is " + encoded.length + " bytes, shorter than its header");
    }
    ByteBuffer b = ByteBuffer.wrap(encoded);
    if (b.getInt() != IndexFormat.ROOT_MAGIC) {
      throw new IndexFormatException("image root does not start with the root magic CIMG");
    }
    int version = b.get();
    if (version != IndexFormat.VERSION) {
      throw new IndexFormatException("image root has format version " + version + "; this Cairn reads version "
          + IndexFormat.VERSION);
    }
    int log2 = b.get();
    if (log2 < BlockSize.MIN_LOG2 || log2 > BlockSize.MAX_LOG2 || b.getShort() != 0) {
      throw new IndexFormatException("image root has an invalid block size 2^" + log2);
    }
    int entries = b.getInt();
    long size = b.getLong();
    int pages = b.getInt();
    int reserved = b.getInt();
    if (entries != IndexFormat.ENTRIES_PER_PAGE || reserved != 0) {
      throw new IndexFormatException("image root has " + entries + " entries per page; version 1 uses "
          + IndexFormat.ENTRIES_PER_PAGE);
    }
    BlockSize bs = BlockSize.ofLog2(log2);
    if (size < 0 || size > IndexFormat.MAX_IMAGE_SIZE || pages != pagesFor(size, bs, entries)
        || encoded.length != IndexFormat.ROOT_HEADER + (long) pages * Sha256Id.LENGTH) {
      throw new IndexFormatException("image root of size " + size + " has an inconsistent page count " + pages
          + " or length " + encoded.length);
    }
    return new ImageRoot(encoded, bs, entries, size, pages);
  }

  public long size() {
    return size;
  }

  public BlockSize blockSize() {
    return blockSize;
  }

  public int entriesPerPage() {
    return entriesPerPage;
  }

  public long blockCount() {
    return blockSize.blocksFor(size);
  }

  public int pageCount() {
    return pageCount;
  }

  /** Number of block entries in page {@code i}: full pages except possibly the last. */
  public int entriesInPage(int i) {
    long first = (long) i * entriesPerPage;
    return (int) Math.min(entriesPerPage, blockCount() - first);
  }

  public PageId pageId(int i) {
    return PageId.fromRaw(encoded, IndexFormat.ROOT_HEADER + i * Sha256Id.LENGTH);
  }

  public List<PageId> pageIds() {
    List<PageId> l = new ArrayList<>(pageCount);
    for (int i = 0; i < pageCount; i++) {
      l.add(pageId(i));
    }
    return Collections.unmodifiableList(l);
  }

  public byte[] encoded() {
    return encoded;
  }

  public ImageDigest digest() {
    if (digest == null) {
      digest = BlockHasher.imageDigest(encoded);
    }
    return digest;
  }
}
