package io.cairn.disk;

import io.cairn.error.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a disk image file as a {@link DiskSource}, whatever its format, with errors a person can act on. */
public final class DiskSources {
  private DiskSources() {}

  public static DiskSource open(Path path) throws IOException {
    if (!Files.exists(path)) {
      throw new InvalidInputException("no such file: " + path + " (give the path of a raw or qcow2 disk image)");
    }
    if (Files.isDirectory(path)) {
      throw new InvalidInputException(path + " is a directory; give the path of a raw or qcow2 disk image file");
    }
    if (!Files.isReadable(path)) {
      throw new InvalidInputException("cannot read " + path + ": permission denied (check the file's mode and owner)");
    }
    if (!Files.isRegularFile(path) && !Files.isSymbolicLink(path)) {
      // block devices and pipes have no size we can trust up front
      throw new InvalidInputException(path + " is not a regular file; copy the device to an image file first");
    }
    return switch (DiskFormat.detect(path)) {
      case RAW -> RawFileSource.open(path);
      case QCOW2 -> Qcow2Source.open(path);
    };
  }
}
