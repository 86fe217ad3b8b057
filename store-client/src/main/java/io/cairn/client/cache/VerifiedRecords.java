package io.cairn.client.cache;

/**
 * The records of one pack whose CRC32C is known from bytes checked against their SHA-256: by this
 * process, or by the pack's writer, which lists them in the pack's idx ({@link PackIndexFile}).
 * Reads of a record compare a CRC32C (several GB/s) instead of hashing again (about 1 GB/s), and a
 * record whose bytes changed since is still a miss. Keyed
 * by the record's offset in the pack, an int (packs end near 128 MiB). Open addressing over two
 * int arrays: 8 to 16 bytes per verified record, where a map of boxed values would take about 60.
 */
final class VerifiedRecords {
  /** Result of {@link #check} when the record has not been verified by this process. */
  static final int UNKNOWN = 0;
  static final int SAME = 1;
  static final int CHANGED = 2;

  private int[] keys = new int[256];
  private int[] crcs = new int[256];
  private int size;

  /** Whether the record at {@code offset} was verified, and if so whether its bytes still have CRC32C {@code crc}. */
  synchronized int check(int offset, int crc) {
    int i = slot(offset);
    return i < 0 ? UNKNOWN : crcs[i] == crc ? SAME : CHANGED;
  }

  /** Records that the bytes at {@code offset} (never 0: the pack header is there) hashed right and have CRC32C {@code crc}. */
  synchronized void put(int offset, int crc) {
    if ((size + 1) * 2 > keys.length) {
      grow();
    }
    if (insert(keys, crcs, offset, crc)) {
      size++;
    }
  }

  /** The CRC32C noted for the record at {@code offset} as an unsigned value, or -1 if none is. */
  synchronized long crc(int offset) {
    int i = slot(offset);
    return i < 0 ? -1 : crcs[i] & 0xffffffffL;
  }

  /** Where {@code offset} is in the table, or -1 when it is not there. */
  private int slot(int offset) {
    int mask = keys.length - 1;
    for (int i = mix(offset) & mask; ; i = (i + 1) & mask) {
      if (keys[i] == 0) {
        return -1;
      }
      if (keys[i] == offset) {
        return i;
      }
    }
  }

  synchronized int size() {
    return size;
  }

  private static boolean insert(int[] keys, int[] crcs, int offset, int crc) {
    int mask = keys.length - 1;
    for (int i = mix(offset) & mask; ; i = (i + 1) & mask) {
      if (keys[i] == 0 || keys[i] == offset) {
        boolean added = keys[i] == 0;
        keys[i] = offset;
        crcs[i] = crc;
        return added;
      }
    }
  }

  private void grow() {
    int[] k = new int[keys.length * 2];
    int[] c = new int[keys.length * 2];
    for (int i = 0; i < keys.length; i++) {
      if (keys[i] != 0) {
        insert(k, c, keys[i], crcs[i]);
      }
    }
    keys = k;
    crcs = c;
  }

  private static int mix(int x) {
    x *= 0x9E3779B9;
    return x ^ (x >>> 16);
  }
}
