package io.cairn.error;

/** No image is known under the given tag or digest. */
public final class ImageUnknownException extends CairnException {
  private final String ref;

  public ImageUnknownException(Object ref) {
    super(ErrorCode.IMAGE_UNKNOWN, "no image " + ref + " in this store (list them with 'cairn images')");
    this.ref = String.valueOf(ref);
  }

  /** The same error as reported by a remote server, with its message. */
  public ImageUnknownException(String ref, String message) {
    super(ErrorCode.IMAGE_UNKNOWN, message);
    this.ref = ref;
  }

  public String ref() {
    return ref;
  }
}
