package io.cairn.server.objectstore;

import io.cairn.id.Tag;
import io.cairn.server.objects.CasConflictException;
import io.cairn.server.objects.CasRegister;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.store.SignatureStore;
import io.cairn.sign.ImageSignature;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * {@link SignatureStore} over a bucket: each (tag, key) is a {@link CasRegister} at {@code
 * signatures/<tag>/<key id hex>/} whose value is the signature record, in the embedded store's
 * record format: {@code u8 version=1 | digest (32) | public key (32) | signature (64) | u64
 * storedMillis | tag (UTF-8, the rest)}. A put is a register move from the version just read; a lost
 * race is retried (the last signature stored wins, as in the embedded store).
 */
public final class ObjectSignatureStore implements SignatureStore {
  private static final int TRIES = 8;

  private final ObjectStore store;

  ObjectSignatureStore(ObjectStore store) {
    this.store = store;
  }

  @Override
  public boolean put(ImageSignature s) {
    CasRegister reg = new CasRegister(store, ObjectKeys.signatureDir(s.tag(), s.keyId()));
    for (int i = 1; ; i++) {
      CasRegister.Version v = reg.read();
      try {
        // The create-only PUT of the register's next entry is the point the signature is durable.
        ObjectIndexStore.compactNow(reg, reg.compareAndSet(v, io.cairn.server.store.SignatureRecord.encode(s, System.currentTimeMillis())));
        return v.value().isEmpty();
      } catch (CasConflictException e) {
        if (i == TRIES) {
          throw e;
        }
      }
    }
  }

  @Override
  public List<Entry> list(Tag tag) {
    List<Entry> out = new ArrayList<>();
    for (String dir : keyDirs(tag)) {
      new CasRegister(store, dir).read().value().ifPresent(v -> out.add(io.cairn.server.store.SignatureRecord.decode(v, tag)));
    }
    out.sort(Comparator.comparing((Entry e) -> e.signature().keyId()));
    return out;
  }

  /** Deletes every key's signature of {@code tag} (a tombstone in each register). */
  void deleteAll(Tag tag) {
    for (String dir : keyDirs(tag)) {
      CasRegister reg = new CasRegister(store, dir);
      for (int i = 1; ; i++) {
        CasRegister.Version v = reg.read();
        if (v.value().isEmpty()) {
          break;
        }
        try {
          reg.delete(v);
          break;
        } catch (CasConflictException e) {
          if (i == TRIES) {
            throw e;
          }
        }
      }
    }
  }

  private List<String> keyDirs(Tag tag) {
    String prefix = ObjectKeys.signaturesOf(tag);
    TreeSet<String> dirs = new TreeSet<>();
    store.forEach(prefix, Optional.empty(), o -> {
      int slash = o.key().indexOf('/', prefix.length());
      if (slash > prefix.length()) {
        dirs.add(o.key().substring(0, slash + 1));
      }
    });
    return new ArrayList<>(dirs);
  }
}
