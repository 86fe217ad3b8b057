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
  /**
   * A {@link Store} of one layout in a new temporary directory; reopen closes it and opens the
   * directory again.
   */
  static final class RocksFixture implements StoreFixture {
    final Path dir;
    final Store.Layout layout;
    Store store;

    RocksFixture() {
      this(Store.Layout.ROWS);
    }

    RocksFixture(Store.Layout layout) {
      this.layout = layout;
      try {
        dir = Files.createTempDirectory("cairn-contract-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public Parts open() {
      store = Store.open(dir, Optional.empty(), Store.OpenOptions.defaults().withLayout(layout));
      return new Parts(store.blocks(), store.index(), store.signatures(), store.overlays());
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

  @Nested
  class Overlays extends OverlayStoreContract {
    @Override
    protected StoreFixture fixture() {
      return new RocksFixture();
    }
  }
}
