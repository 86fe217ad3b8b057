package io.cairn.server.nbd;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.index.ImageRoot;
import io.cairn.server.image.DiskMap;
import io.cairn.server.image.Images;

/**
 * An image version, read-only. A tag is resolved once, when the client attaches: the session keeps
 * reading that version even if the tag moves, since a disk whose bytes change under a running guest
 * would corrupt its file system.
 */
final class ImageExport implements Export {
  private final String name;
  private final ImageRoot root;
  private final DiskMap disk;

  ImageExport(String name, Images images, ImageRoot root) {
    this.name = name;
    this.root = root;
    this.disk = DiskMap.of(images, root);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long size() {
    return root.size();
  }

  @Override
  public boolean readOnly() {
    return true;
  }

  @Override
  public String description() {
    return "Cairn image " + root.digest() + " (read-only)";
  }

  @Override
  public View view() {
    return new View() {
      @Override
      public DiskMap disk() {
        return disk;
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public void write(long offset, byte[] data, int len) {
    throw readOnlyError();
  }

  @Override
  public void zero(long offset, long len) {
    throw readOnlyError();
  }

  private CairnException readOnlyError() {
    return new CairnException(ErrorCode.DENIED, name + " is an image version, read-only; write to an overlay");
  }
}
