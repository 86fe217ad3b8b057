package io.cairn.fuse;

/**
 * An open file of the mount, behind a FUSE file handle. Methods return a byte count or a negative
 * errno, as FUSE expects.
 */
interface OpenFile {
  int read(long offset, byte[] dst, int len);

  int write(long offset, byte[] src, int len);

  /** The file's size as this handle sees it. */
  long size();

  /** Durability point: {@code fsync(2)} or an O_SYNC write. */
  int fsync();

  /** The last close of this handle. */
  void release();
}
