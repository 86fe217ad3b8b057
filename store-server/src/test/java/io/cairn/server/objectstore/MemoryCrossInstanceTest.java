package io.cairn.server.objectstore;

import io.cairn.server.objects.MemoryObjectStore;
import io.cairn.server.objects.ObjectStore;

/** {@link CrossInstanceContract} with both servers on one {@link MemoryObjectStore}. */
class MemoryCrossInstanceTest extends CrossInstanceContract {
  @Override
  protected ObjectStore[] twoClients() {
    MemoryObjectStore bucket = new MemoryObjectStore();
    return new ObjectStore[] {bucket, bucket};
  }
}
