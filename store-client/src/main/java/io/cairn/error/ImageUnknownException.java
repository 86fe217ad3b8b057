package io.cairn.error;

/** No image is known under the given tag or digest. */
public final class ImageUnknownException extends CairnException {
  private final String ref;

  public ImageUnknownException(Object ref) {
    super(ErrorCode.IMAGE_UNKNOWN, "no image " + ref + " in this store (list them with 'cairn images')");
    this.ref = String.valueOf(ref);
  }

  public String ref() {
    return ref;
  }
}
