package io.cairn.fuse;

import io.cairn.client.CairnClient;
import io.cairn.client.ImageReader;
import io.cairn.error.CairnException;
import ru.serce.jnrfuse.ErrorCodes;

/** An open {@code images/NAME/TAG.raw}: reads of the image version the tag named at open time. */
final class ImageHandle implements OpenFile {
  private final String path;
  private final ImageReader reader;
  private final CairnClient client;
  private final ServerHealth health;
  private final EventLog log;
  private final Runnable onRelease;

  ImageHandle(String path, ImageReader reader, CairnClient client, ServerHealth health, EventLog log,
      Runnable onRelease) {
    this.onRelease = onRelease;
    this.path = path;
    this.reader = reader;
    this.client = client;
    this.health = health;
    this.log = log;
  }

  @Override
  public int read(long offset, byte[] dst, int len) {
    long before = client.blockBytesFetched();
    try {
      int n = reader.read(offset, dst, 0, len);
      if (client.blockBytesFetched() != before) {
        health.answered();
      }
      return n;
    } catch (CairnException e) {
      return Errors.failed(e, "read of " + len + " bytes at " + offset + " of " + path.substring(1), health, log);
    }
  }

  @Override
  public int write(long offset, byte[] src, int len) {
    return -ErrorCodes.EBADF(); // opened read-only: open refuses anything else
  }

  @Override
  public long size() {
    return reader.size();
  }

  @Override
  public int fsync() {
    return 0;
  }

  @Override
  public void release() {
    onRelease.run(); // the reader itself is shared by every handle on this digest (see Readers)
  }
}
