package io.cairn.disk;

import io.cairn.disk.UnsupportedImageException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of a qcow2 header (qemu docs/interop/qcow2.txt, "Header") that decide how to read guest
 * data. {@link #read} refuses every image whose guest bytes cannot be produced from this file alone
 * by this reader, so the rest of the code never sees a backing file, encryption or unknown feature.
 */
record Qcow2Header(
    int version,
    int clusterBits,
    long size,
    int l1Size,
    long l1Offset,
    Qcow2Compression compression,
    boolean extendedL2) {

  // Incompatible feature bits (header bytes 72-79).
  private static final long INCOMPAT_DIRTY = 1L;
  private static final long INCOMPAT_CORRUPT = 1L << 1;
  private static final long INCOMPAT_DATA_FILE = 1L << 2;
  private static final long INCOMPAT_COMPRESSION = 1L << 3;
  private static final long INCOMPAT_EXTL2 = 1L << 4;
  private static final long INCOMPAT_KNOWN =
      INCOMPAT_DIRTY
          | INCOMPAT_CORRUPT
          | INCOMPAT_DATA_FILE
          | INCOMPAT_COMPRESSION
          | INCOMPAT_EXTL2;

  private static final int EXT_FEATURE_NAMES = 0x6803f857;
  private static final int EXT_DATA_FILE = 0x44415441;

  private static final int V2_HEADER_LENGTH = 72;
  private static final int V3_MIN_HEADER_LENGTH = 104;
  private static final int COMPRESSION_TYPE_OFFSET = 104;
  /** qemu opens nothing above 2 MiB clusters; larger ones would only be a memory hazard here. */
  private static final int MAX_CLUSTER_BITS = 21;
  /** qemu's limit on the L1 table (32 MiB); the table is held in memory, so bound it. */
  private static final long MAX_L1_BYTES = 32L << 20;
  /** Bits 9-55 of an L1 or standard L2 entry: the host offset. */
  static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;

  int clusterSize() {
    return 1 << clusterBits;
  }

  /** Guest clusters described by one L2 table. */
  int l2Entries() {
    return clusterSize() / (extendedL2 ? 16 : 8);
  }

  /**
   * Parses and checks the header of {@code file}. Throws {@link UnsupportedImageException} for
   * every image that needs something beyond this file (backing file, external data file, a key)
   * or uses a feature this reader does not implement.
   */
  static Qcow2Header read(Path file, FileChannel ch) throws IOException {
    long fileSize = ch.size();
    ByteBuffer fixed = readAt(ch, 0, (int) Math.min(fileSize, V3_MIN_HEADER_LENGTH + 8));
    if (fixed.limit() < 4 || fixed.getInt(0) != DiskFormat.QCOW_MAGIC) {
      String magic = fixed.limit() < 4 ? "too short" : String.format("%08x", fixed.getInt(0));
      throw new UnsupportedImageException(
          file,
          Reason.NOT_QCOW2,
          file
              + " is not a qcow2 file (magic "
              + magic
              + ", expected 514649fb 'QFI\\xfb'); read it as a raw disk, or check its format with"
              + " 'qemu-img info "
              + file
              + "'");
    }
    if (fixed.limit() < V2_HEADER_LENGTH) {
      throw UnsupportedImageException.corrupt(file, "the header is cut off at " + fixed.limit());
    }
    int version = fixed.getInt(4);
    if (version != 2 && version != 3) {
      throw new UnsupportedImageException(
          file,
          Reason.UNSUPPORTED_VERSION,
          "qcow2 file "
              + file
              + " has format version "
              + version
              + ", Cairn reads versions 2 and 3: run 'qemu-img convert -O qcow2 "
              + file
              + " converted.qcow2' first");
    }
    long backingOffset = fixed.getLong(8);
    int backingLength = fixed.getInt(16);
    int clusterBits = fixed.getInt(20);
    long size = fixed.getLong(24);
    int cryptMethod = fixed.getInt(32);
    long l1Size = Integer.toUnsignedLong(fixed.getInt(36));
    long l1Offset = fixed.getLong(40);

    int headerLength = V2_HEADER_LENGTH;
    long incompatible = 0;
    int compressionType = 0;
    if (version == 3) {
      if (fixed.limit() < V3_MIN_HEADER_LENGTH) {
        throw UnsupportedImageException.corrupt(file, "the v3 header is cut off");
      }
      incompatible = fixed.getLong(72);
      headerLength = fixed.getInt(100);
      if (headerLength < V3_MIN_HEADER_LENGTH) {
        throw UnsupportedImageException.corrupt(file, "header_length " + headerLength + " < 104");
      }
      // Fields past header_length are absent and mean zero (spec, "Additional fields").
      if (headerLength > COMPRESSION_TYPE_OFFSET && fixed.limit() > COMPRESSION_TYPE_OFFSET) {
        compressionType = Byte.toUnsignedInt(fixed.get(COMPRESSION_TYPE_OFFSET));
      }
    }
    if (clusterBits < 9) {
      throw UnsupportedImageException.corrupt(file, "cluster_bits " + clusterBits + " < 9");
    }
    if (clusterBits > MAX_CLUSTER_BITS) {
      throw unsupported(file, "clusters of 2^" + clusterBits + " bytes (qemu's limit is 2 MiB)");
    }
    int clusterSize = 1 << clusterBits;
    ByteBuffer firstCluster = readAt(ch, 0, (int) Math.min(fileSize, clusterSize));
    Map<Integer, ByteBuffer> extensions = extensions(firstCluster, headerLength);

    long unknown = incompatible & ~INCOMPAT_KNOWN;
    if (unknown != 0) {
      String names = featureNames(unknown, extensions.get(EXT_FEATURE_NAMES));
      throw unsupported(file, "incompatible features " + names);
    }
    if ((incompatible & INCOMPAT_CORRUPT) != 0) {
      throw UnsupportedImageException.corrupt(file, "qemu has flagged it corrupt");
    }
    if ((incompatible & INCOMPAT_DATA_FILE) != 0) {
      ByteBuffer name = extensions.get(EXT_DATA_FILE);
      throw new UnsupportedImageException(
          file,
          Reason.EXTERNAL_DATA_FILE,
          "qcow2 file "
              + file
              + " keeps its guest data in an external data file"
              + (name == null ? "" : " '" + StandardCharsets.UTF_8.decode(name) + "'")
              + "; Cairn stores self-contained disks: run 'qemu-img convert -O qcow2 "
              + file
              + " flat.qcow2' first");
    }
    if (cryptMethod != 0) {
      String kind = cryptMethod == 1 ? "AES" : cryptMethod == 2 ? "LUKS" : "method " + cryptMethod;
      throw new UnsupportedImageException(
          file,
          Reason.ENCRYPTED,
          "qcow2 file "
              + file
              + " is encrypted ("
              + kind
              + "); Cairn reads only unencrypted images: decrypt it with 'qemu-img convert"
              + " --object secret,id=sec0,file=KEYFILE --image-opts"
              + " driver=qcow2,file.filename="
              + file
              + ",encrypt.key-secret=sec0 -O qcow2 plain.qcow2' first");
    }
    if (backingOffset != 0) {
      throw new UnsupportedImageException(
          file,
          Reason.BACKING_FILE,
          "qcow2 file "
              + file
              + " has a backing file '"
              + backingName(ch, fileSize, backingOffset, backingLength)
              + "'; Cairn stores complete disks: run 'qemu-img convert -O qcow2 "
              + file
              + " flat.qcow2' first");
    }
    Qcow2Compression compression = compression(file, incompatible, compressionType);
    boolean extendedL2 = (incompatible & INCOMPAT_EXTL2) != 0;
    if (extendedL2 && clusterBits < 14) {
      throw UnsupportedImageException.corrupt(
          file, "extended L2 entries need clusters of at least 16 KiB, not " + clusterSize);
    }
    if (size < 0) {
      throw UnsupportedImageException.corrupt(file, "negative virtual size " + size);
    }
    long l2Entries = clusterSize / (extendedL2 ? 16 : 8);
    long bytesPerL2 = l2Entries * clusterSize;
    long l1Needed = size / bytesPerL2 + (size % bytesPerL2 == 0 ? 0 : 1);
    if (l1Size < l1Needed) {
      throw UnsupportedImageException.corrupt(
          file, "L1 table has " + l1Size + " entries, " + l1Needed + " are needed for " + size);
    }
    if (l1Size * 8 > MAX_L1_BYTES) {
      throw unsupported(file, "an L1 table of " + l1Size + " entries (qemu's limit is 32 MiB)");
    }
    if (l1Size > 0
        && ((l1Offset & (clusterSize - 1)) != 0
            || l1Offset <= 0
            || l1Offset > fileSize - l1Size * 8)) {
      throw UnsupportedImageException.corrupt(
          file,
          "L1 table at " + l1Offset + " (" + l1Size * 8 + " bytes) is not inside the file of "
              + fileSize + " bytes");
    }
    return new Qcow2Header(
        version, clusterBits, size, (int) l1Size, l1Offset, compression, extendedL2);
  }

  private static Qcow2Compression compression(Path file, long incompatible, int type)
      throws UnsupportedImageException {
    boolean flagged = (incompatible & INCOMPAT_COMPRESSION) != 0;
    if (!flagged && type == 0) {
      return Qcow2Compression.ZLIB;
    }
    if (flagged && type == 1) {
      return Qcow2Compression.ZSTD;
    }
    if (!flagged || type == 0) {
      throw UnsupportedImageException.corrupt(
          file,
          "compression type "
              + type
              + (flagged ? " with" : " without")
              + " the compression-type feature bit");
    }
    throw unsupported(file, "compression type " + type + " (Cairn reads zlib and zstd)");
  }

  private static UnsupportedImageException unsupported(Path file, String what) {
    return new UnsupportedImageException(
        file,
        Reason.UNSUPPORTED_FEATURE,
        "qcow2 file "
            + file
            + " uses "
            + what
            + ", which Cairn does not read: run 'qemu-img convert -O qcow2 "
            + file
            + " plain.qcow2' (default options) first");
  }

  /** Header extensions by type; unparseable trailing bytes end the list (they are hints only). */
  private static Map<Integer, ByteBuffer> extensions(ByteBuffer cluster, int start) {
    Map<Integer, ByteBuffer> out = new HashMap<>();
    long off = start;
    while (off + 8 <= cluster.limit()) {
      int type = cluster.getInt((int) off);
      long length = Integer.toUnsignedLong(cluster.getInt((int) off + 4));
      if (type == 0 || off + 8 + length > cluster.limit()) {
        break;
      }
      out.putIfAbsent(type, cluster.slice((int) off + 8, (int) length));
      off += 8 + ((length + 7) & ~7L);
    }
    return out;
  }

  /** "bits 0x20 (name)" using the image's own feature name table when it has one. */
  private static String featureNames(long bits, ByteBuffer table) {
    List<String> names = new ArrayList<>();
    if (table != null) {
      for (int e = 0; e + 48 <= table.limit(); e += 48) {
        int bit = Byte.toUnsignedInt(table.get(e + 1));
        if (table.get(e) == 0 && bit < 64 && (bits & (1L << bit)) != 0) {
          byte[] raw = new byte[46];
          table.get(e + 2, raw);
          int len = 0;
          while (len < raw.length && raw[len] != 0) {
            len++;
          }
          names.add(new String(raw, 0, len, StandardCharsets.UTF_8));
        }
      }
    }
    return "bits 0x" + Long.toHexString(bits) + (names.isEmpty() ? "" : " " + names);
  }

  private static String backingName(FileChannel ch, long fileSize, long offset, int length)
      throws IOException {
    if (length <= 0 || length > 1023 || offset < 0 || offset > fileSize - length) {
      return "(name unreadable)";
    }
    return StandardCharsets.UTF_8.decode(readAt(ch, offset, length)).toString();
  }

  /** Up to {@code length} bytes at {@code pos}; fewer only at end of file. */
  static ByteBuffer readAt(FileChannel ch, long pos, int length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length);
    while (buf.hasRemaining()) {
      if (ch.read(buf, pos + buf.position()) < 0) {
        break;
      }
    }
    return buf.flip();
  }
}
