package io.cairn.disk;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A disk image file Cairn refuses to read, with a message that says what to do instead. The
 * {@link #reason()} lets a caller tell "convert it first" apart from "the file is damaged" without
 * parsing the message.
 */
public final class UnsupportedImageException extends IOException {
  /** Why the image was refused. */
  public enum Reason {
    /** The file does not start with the qcow2 magic. */
    NOT_QCOW2,
    /** A qcow2 version other than 2 or 3 (version 1 is the old qcow format). */
    UNSUPPORTED_VERSION,
    /** The image is a delta over a backing file, not a complete disk. */
    BACKING_FILE,
    /** The guest data is encrypted (AES or LUKS). */
    ENCRYPTED,
    /** The guest data lives in a separate external data file. */
    EXTERNAL_DATA_FILE,
    /**
     * A valid qcow2 feature this reader does not implement: unknown incompatible feature bits, an
     * unknown compression type, or layout limits beyond qemu's own.
     */
    UNSUPPORTED_FEATURE,
    /**
     * The metadata contradicts itself or the file: offsets past the end (a truncated copy),
     * misaligned tables, undecodable compressed clusters, or qemu's own "corrupt" flag.
     */
    CORRUPT
  }

  private final Path file;
  private final Reason reason;

  UnsupportedImageException(Path file, Reason reason, String message) {
    super(message);
    this.file = file;
    this.reason = reason;
  }

  UnsupportedImageException(Path file, Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.file = file;
    this.reason = reason;
  }

  /** A {@link Reason#CORRUPT} refusal; {@code detail} says what is inconsistent. */
  static UnsupportedImageException corrupt(Path file, String detail) {
    return new UnsupportedImageException(file, Reason.CORRUPT, corruptMessage(file, detail));
  }

  static UnsupportedImageException corrupt(Path file, String detail, Throwable cause) {
    return new UnsupportedImageException(file, Reason.CORRUPT, corruptMessage(file, detail), cause);
  }

  private static String corruptMessage(Path file, String detail) {
    return "qcow2 file "
        + file
        + " is damaged: "
        + detail
        + "; check it with 'qemu-img check "
        + file
        + "' (was it truncated, or copied while a VM was still writing it?)";
  }

  /** The image file that was refused. */
  public Path file() {
    return file;
  }

  public Reason reason() {
    return reason;
  }
}
