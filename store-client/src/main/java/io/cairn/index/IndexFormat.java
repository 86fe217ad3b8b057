package io.cairn.index;

/** Constants of index format version 1 (see docs/design.md, "Index format"). */
public final class IndexFormat {
  /** Format version written into every root. */
  public static final int VERSION = 1;
  /** Block ids per page: 1,024 ids = 32 KiB page = 4 MiB of image at 4 KiB blocks. */
  public static final int ENTRIES_PER_PAGE = 1024;
  /** Largest image we accept: 2^50 bytes (1 PiB); keeps block and page counts in range. */
  public static final long MAX_IMAGE_SIZE = 1L << 50;

  static final int PAGE_MAGIC = 0x43504731; // "CPG1"
  static final int ROOT_MAGIC = 0x43494d47; // "CIMG"
  static final int PAGE_HEADER = 8;
  static final int ROOT_HEADER = 28;

  private IndexFormat() {}
}
