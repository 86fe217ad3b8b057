package io.cairn.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.id.ImageDigest;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.sign.ImageSignature;
import io.cairn.sign.SigningKey;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What every {@link SignatureStore} must do, run against each backend through a {@link StoreFixture}. */
public abstract class SignatureStoreContract extends StoreContractSupport {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Tag WEB = Tag.parse("team/web:latest");
  private static final Tag OTHER = Tag.parse("team/web:v1");

  private static ImageDigest digest(int n) {
    return root(page(n, n + 2)).digest();
  }

  @Test
  void put_whenKeyHasNone_returnsTrueAndListsIt() {
    SigningKey k = SigningKey.generate(RANDOM);
    ImageSignature s = k.sign(digest(1), WEB);
    long t0 = System.currentTimeMillis();
    assertTrue(store.signatures().put(s));
    List<SignatureStore.Entry> list = store.signatures().list(WEB);
    assertEquals(1, list.size());
    assertEquals(s, list.get(0).signature());
    assertArrayEquals(s.signature(), list.get(0).signature().signature());
    assertTrue(list.get(0).storedMillis() >= t0);
    assertEquals(List.of(), store.signatures().list(OTHER));
  }

  @Test
  void put_whenKeyHasOne_returnsFalseAndReplacesIt() {
    SigningKey k = SigningKey.generate(RANDOM);
    assertTrue(store.signatures().put(k.sign(digest(1), WEB)));
    ImageSignature newer = k.sign(digest(2), WEB);
    assertFalse(store.signatures().put(newer));
    List<SignatureStore.Entry> list = store.signatures().list(WEB);
    assertEquals(1, list.size());
    assertEquals(digest(2), list.get(0).signature().digest());
  }

  @Test
  void list_whenSeveralKeys_returnsOnePerKeyInKeyIdOrder() {
    List<SigningKey> keys = List.of(SigningKey.generate(RANDOM), SigningKey.generate(RANDOM), SigningKey.generate(RANDOM));
    for (SigningKey k : keys) {
      store.signatures().put(k.sign(digest(1), WEB));
    }
    List<SignatureStore.Entry> list = store.signatures().list(WEB);
    assertEquals(keys.stream().map(SigningKey::id).sorted(Comparator.naturalOrder()).toList(),
        list.stream().map(e -> e.signature().keyId()).toList());
    assertTrue(list.stream().allMatch(e -> e.signature().isValid() && e.signature().tag().equals(WEB)));
  }

  @Test
  void deleteTag_whenSigned_removesItsSignaturesOnly() {
    SigningKey k = SigningKey.generate(RANDOM);
    ImageRoot r = root(page(0, 2));
    store.index().putPages(List.of(page(0, 2)));
    store.index().commit(r, Optional.of(WEB));
    store.index().commit(r, Optional.of(OTHER));
    store.signatures().put(k.sign(r.digest(), WEB));
    store.signatures().put(k.sign(r.digest(), OTHER));
    assertTrue(store.index().deleteTag(WEB));
    assertEquals(List.of(), store.signatures().list(WEB));
    assertEquals(1, store.signatures().list(OTHER).size());
    // A tag made again starts unsigned; a new signature is a first one for its key.
    store.index().commit(r, Optional.of(WEB));
    assertEquals(List.of(), store.signatures().list(WEB));
    assertTrue(store.signatures().put(k.sign(r.digest(), WEB)));
  }
}
