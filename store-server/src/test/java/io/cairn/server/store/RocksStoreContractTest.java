package io.cairn.server.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;

/** The store contracts against the embedded RocksDB store in a temporary directory. */
class RocksStoreContractTest {
  /** A {@link Store} in a new temporary directory; reopen closes it and opens the directory again. */
  static final class RocksFixture implements StoreFixture {
    private final Path dir;
    private Store store;

    RocksFixture() {
      try {
        dir = Files.createTempDirectory("cairn-contract-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public Parts open() {
      store = Store.open(dir, Optional.empty());
      return new Parts(store.blocks(), store.index(), store.signatures());
    }

    @Override
    public Parts reopen() {
      store.close();
      return open();
    }

    @Override
    public void close() {
      store.close();
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Nested
  class Blocks extends BlockStoreContract {
    @Override
    protected StoreFixture fixture() {
      return new RocksFixture();
    }
  }

  @Nested
  class Index extends IndexStoreContract {
    @Override
    protected StoreFixture fixture() {
      return new RocksFixture();
    }
  }

  @Nested
  class Signatures extends SignatureStoreContract {
    @Override
    protected StoreFixture fixture() {
      return new RocksFixture();
    }
  }
}
