package io.cairn.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.OverlayName;
import io.cairn.id.UserName;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** What every {@link OverlayStore} must do, run against each backend through a {@link StoreFixture}. */
public abstract class OverlayStoreContract extends StoreContractSupport {
  private static final UserName ANN = UserName.of("ann");
  private static final UserName BOB = UserName.of("bob");
  private static final OverlayName VM = OverlayName.of("vm1");
  private static final ImageDigest BASE = root(page(1, 3)).digest();
  private static final long SIZE = 64L * BS.bytes();

  private OverlayRecord create(UserName owner, OverlayName name) {
    return store.overlays().create(owner, name, BASE, SIZE, 64);
  }

  private static TreeMap<Long, BlockId> map(Object... blockThenId) {
    TreeMap<Long, BlockId> m = new TreeMap<>();
    for (int i = 0; i < blockThenId.length; i += 2) {
      m.put(((Number) blockThenId[i]).longValue(), (BlockId) blockThenId[i + 1]);
    }
    return m;
  }

  private NavigableMap<Long, BlockId> profile(UserName owner, OverlayName name) {
    try (OverlayStore.View v = store.overlays().view()) {
      OverlayRecord r = v.get(owner, name).orElseThrow();
      return v.profile(r.id(), 0, Long.MAX_VALUE);
    }
  }

  private Optional<OverlayRecord> get(UserName owner, OverlayName name) {
    try (OverlayStore.View v = store.overlays().view()) {
      return v.get(owner, name);
    }
  }

  @Test
  void create_whenNew_storesGenerationOneWithEmptyProfile() {
    OverlayRecord r = create(ANN, VM);
    assertEquals(1, r.generation());
    assertEquals(SIZE, r.size());
    assertEquals(0, r.dataBlocks());
    assertEquals(Optional.of(r), get(ANN, VM));
    assertEquals(Map.of(), profile(ANN, VM));
    assertEquals(Optional.empty(), get(BOB, VM));
  }

  @Test
  void create_whenNameTaken_throwsConflictAndKeepsTheFirst() {
    OverlayRecord first = create(ANN, VM);
    CairnException e = assertThrows(CairnException.class, () -> create(ANN, VM));
    assertEquals(ErrorCode.CONFLICT, e.code());
    assertEquals(Optional.of(first), get(ANN, VM));
    create(BOB, VM); // another owner's name space
  }

  @Test
  void commit_whenSetUnsetAndClear_profileAndRecordReadBackAfterReopen() {
    OverlayRecord r = create(ANN, VM);
    OverlayRecord g2 = r.next(r.size(), r.visibleBaseBlocks(), 3);
    assertEquals(g2, store.overlays().commit(g2, new OverlayStore.ProfileChange(Long.MAX_VALUE,
        map(1, id(1), 5, id(5), 9, id(9), 10, BlockId.ZERO), List.of())));
    OverlayRecord g3 = g2.next(g2.size(), g2.visibleBaseBlocks(), 2);
    assertEquals(g3, store.overlays().commit(g3, new OverlayStore.ProfileChange(Long.MAX_VALUE, map(5, id(6)),
        List.of(1L))));
    assertEquals(map(5, id(6), 9, id(9), 10, BlockId.ZERO), profile(ANN, VM));
    OverlayRecord g4 = g3.next(9L * BS.bytes(), 9, 1);
    store.overlays().commit(g4, new OverlayStore.ProfileChange(9, new TreeMap<>(), List.of()));
    reopen();
    assertEquals(Optional.of(g4), get(ANN, VM));
    assertEquals(4, get(ANN, VM).orElseThrow().generation());
    assertEquals(map(5, id(6)), profile(ANN, VM));
    try (OverlayStore.View v = store.overlays().view()) {
      List<Long> seen = new ArrayList<>();
      v.forEachEntry(v.get(ANN, VM).orElseThrow().id(), (id, block) -> seen.add(block));
      assertEquals(List.of(5L), seen);
      assertEquals(map(5, id(6)), v.profile(g4.id(), 5, 6));
      assertEquals(Map.of(), v.profile(g4.id(), 6, 100));
    }
  }

  @Test
  void delete_whenPresent_removesRecordAndProfile_andTheNameCanBeCreatedAgain() {
    OverlayRecord r = create(ANN, VM);
    OverlayRecord g2 = r.next(r.size(), r.visibleBaseBlocks(), 1);
    store.overlays().commit(g2, new OverlayStore.ProfileChange(Long.MAX_VALUE, map(3, id(3)), List.of()));
    store.overlays().delete(g2);
    assertEquals(Optional.empty(), get(ANN, VM));
    assertEquals(0, store.overlays().count());
    OverlayRecord again = create(ANN, VM);
    assertTrue(again.id() != r.id(), "ids are never reused");
    assertEquals(Map.of(), profile(ANN, VM));
  }

  @Test
  void list_whenSeveralOwners_ordersByOwnerThenName_andFiltersByOwner() {
    create(BOB, OverlayName.of("b"));
    create(ANN, OverlayName.of("z"));
    create(ANN, OverlayName.of("a"));
    try (OverlayStore.View v = store.overlays().view()) {
      assertEquals(List.of("ann/a", "ann/z", "bob/b"), v.list(Optional.empty()).stream()
          .map(r -> r.owner().value() + "/" + r.name().value()).toList());
      assertEquals(List.of("b"), v.list(Optional.of(BOB)).stream().map(r -> r.name().value()).toList());
    }
    assertEquals(3, store.overlays().count());
    assertEquals(3, store.overlays().totals().overlays());
    assertTrue(store.overlays().totals().bytes() > 0);
  }
}
