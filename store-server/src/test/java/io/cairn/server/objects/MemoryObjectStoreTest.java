package io.cairn.server.objects;

class MemoryObjectStoreTest extends ObjectStoreContract {
  private final MemoryObjectStore store = new MemoryObjectStore();

  @Override
  protected ObjectStore store() {
    return store;
  }
}
