package io.cairn.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The container format of a disk image file, told apart by its first bytes. */
public enum DiskFormat {
  /** The file's bytes are the disk's bytes. */
  RAW,
  /** qemu's copy-on-write format; read with {@link Qcow2Source}. */
  QCOW2;

  /** "QFI\xfb", big-endian, as qcow (v1) and qcow2 both start. */
  static final int QCOW_MAGIC = 0x514649fb;

  /**
   * QCOW2 when the file starts with the qcow magic, RAW otherwise. Any file can be a raw disk, so
   * there is no "unknown": a qcow (v1) file detects as QCOW2 and {@link Qcow2Source} then refuses
   * it by version, which tells the user more than reading its header as guest data would.
   */
  public static DiskFormat detect(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      ByteBuffer magic = ByteBuffer.allocate(4);
      while (magic.hasRemaining()) {
        if (ch.read(magic, magic.position()) < 0) {
          return RAW; // shorter than a magic number: cannot be qcow2
        }
      }
      return magic.getInt(0) == QCOW_MAGIC ? QCOW2 : RAW;
    }
  }
}
