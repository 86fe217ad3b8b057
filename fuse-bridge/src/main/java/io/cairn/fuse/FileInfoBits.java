package io.cairn.fuse;

import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import ru.serce.jnrfuse.struct.FuseFileInfo;

/**
 * The bit fields of libfuse 2.9's {@code struct fuse_file_info}, which jnr-fuse 0.5.8 maps as
 * separate bytes and so cannot set. On LP64 the struct is {@code int flags; unsigned long fh_old;
 * int writepage; unsigned direct_io:1, keep_cache:1, ...; uint64_t fh; ...}: the bit fields share
 * the 32-bit word at offset 20, lowest bit first.
 */
final class FileInfoBits {
  private static final int BITS_OFFSET = 20;
  private static final int DIRECT_IO = 1;
  private static final int KEEP_CACHE = 1 << 1;

  private FileInfoBits() {}

  /** Tells the kernel that the page cache it holds for this file is still valid. */
  static void keepCache(FuseFileInfo fi) {
    Pointer p = Struct.getMemory(fi);
    p.putInt(BITS_OFFSET, p.getInt(BITS_OFFSET) | KEEP_CACHE);
  }

  /** Reads and writes of this handle bypass the page cache and go to the file system. */
  static void directIo(FuseFileInfo fi) {
    Pointer p = Struct.getMemory(fi);
    p.putInt(BITS_OFFSET, p.getInt(BITS_OFFSET) | DIRECT_IO);
  }
}
