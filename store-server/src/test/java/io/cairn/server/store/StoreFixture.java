package io.cairn.server.store;

/**
 * Opens one backend's store for the contract tests ({@link BlockStoreContract}, {@link
 * IndexStoreContract}, {@link SignatureStoreContract}): {@link #open} an empty store, {@link
 * #reopen} the same data in a new instance (a restart, or another server on the same bucket).
 */
public interface StoreFixture extends AutoCloseable {
  /** The parts of one open store. */
  record Parts(BlockStore blocks, IndexStore index, SignatureStore signatures) {}

  Parts open();

  /** Closes the instance {@link #open} or the last reopen returned, and opens the same data again. */
  Parts reopen();

  @Override
  void close();
}
