package io.cairn.server.objects;

/**
 * A byte range of an object: {@code length} bytes from {@code offset}, or (offset -1) the last
 * {@code length} bytes, which lets a pack reader fetch a trailer without knowing the pack's size.
 */
public record ObjectRange(long offset, long length) {
  public ObjectRange {
    if (length <= 0 || offset < -1) {
      throw new IllegalArgumentException("bad object range offset=" + offset + " length=" + length);
    }
  }

  public static ObjectRange of(long offset, long length) {
    if (offset < 0) {
      throw new IllegalArgumentException("negative offset " + offset);
    }
    return new ObjectRange(offset, length);
  }

  /** The last {@code length} bytes (all of a shorter object). */
  public static ObjectRange lastBytes(long length) {
    return new ObjectRange(-1, length);
  }

  public boolean isSuffix() {
    return offset < 0;
  }

  /** The HTTP {@code Range} header value. */
  public String httpHeader() {
    return isSuffix() ? "bytes=-" + length : "bytes=" + offset + "-" + (offset + length - 1);
  }

  @Override
  public String toString() {
    return httpHeader();
  }
}
