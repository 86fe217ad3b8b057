package io.cairn.server.objectstore;

import io.cairn.id.PageId;
import io.cairn.index.IndexPage;
import io.cairn.server.objects.ObjectRange;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.pack.PackFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Index pages packed into one object, so a publish stores its pages with one PUT per commit instead
 * of one per page (256 per GiB of image). Pages are SHA-256 hashes and do not compress, so they are
 * stored raw. Format 1, big-endian:
 *
 * <pre>
 * PagePack := "CPPK" count u32 (id (32) length u32)*count page*   pages back to back, in table order
 * </pre>
 *
 * Named {@code pages/<sha256 of the object>}. The table is at the front: one ranged GET of the
 * first {@link #HEAD_GUESS} bytes reads it for up to ~1,800 pages (7 GiB of image at 4 KiB blocks).
 */
final class PagePack {
  static final int HEAD_GUESS = 64 << 10;
  private static final int MAGIC = 0x4350504b; // "CPPK"
  private static final int ENTRY = 36;

  /** Where one page is. */
  record Loc(String pack, long offset, int length) {}

  private PagePack() {}

  /** The encoded pack and its key. */
  record Encoded(String key, byte[] bytes) {}

  static Encoded encode(List<IndexPage> pages) {
    int size = 8 + ENTRY * pages.size() + pages.stream().mapToInt(p -> p.encoded().length).sum();
    ByteBuffer b = ByteBuffer.allocate(size);
    b.putInt(MAGIC).putInt(pages.size());
    for (IndexPage p : pages) {
      p.id().copyRawTo(b);
      b.putInt(p.encoded().length);
    }
    for (IndexPage p : pages) {
      b.put(p.encoded());
    }
    try {
      byte[] sha = MessageDigest.getInstance("SHA-256").digest(b.array());
      return new Encoded(ObjectKeys.PAGES + HexFormat.of().formatHex(sha), b.array());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The locations of an encoded pack's pages (for a pack this process just stored). */
  static List<Map.Entry<PageId, Loc>> locations(Encoded e) {
    return parseTable(e.key(), e.bytes(), e.bytes().length);
  }

  /** Reads a stored pack's table: one ranged GET, two for a table over {@link #HEAD_GUESS}. */
  static List<Map.Entry<PageId, Loc>> readTable(ObjectStore store, String key) {
    byte[] head;
    long size;
    try (ObjectStore.RangeStream r = store.get(key, ObjectRange.of(0, HEAD_GUESS))) {
      head = r.body().readAllBytes();
      size = r.objectSize();
    } catch (IOException e) {
      throw new io.cairn.server.objects.ObjectUnavailableException(key, "reading a page table broke off: " + e, e);
    }
    if (head.length >= 8) {
      long table = 8 + (long) ENTRY * ByteBuffer.wrap(head, 4, 4).getInt();
      if (table > head.length && table <= size) {
        head = store.read(key, ObjectRange.of(0, table));
      }
    }
    return parseTable(key, head, size);
  }

  private static List<Map.Entry<PageId, Loc>> parseTable(String key, byte[] b, long size) {
    ByteBuffer in = ByteBuffer.wrap(b);
    if (b.length < 8 || in.getInt() != MAGIC) {
      throw new PackFormatException(key, "is not a page pack (no CPPK magic)");
    }
    int count = in.getInt();
    long offset = 8 + (long) ENTRY * count;
    if (count < 0 || offset > b.length) {
      throw new PackFormatException(key, "page table of " + count + " entries does not fit");
    }
    List<Map.Entry<PageId, Loc>> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      PageId id = PageId.fromRaw(in);
      int length = in.getInt();
      if (length <= 0) {
        throw new PackFormatException(key, "page " + i + " has length " + length);
      }
      out.add(new AbstractMap.SimpleImmutableEntry<>(id, new Loc(key, offset, length)));
      offset += length;
    }
    if (offset != size) {
      throw new PackFormatException(key, "pages end at " + offset + " but the pack has " + size + " bytes");
    }
    return out;
  }
}
