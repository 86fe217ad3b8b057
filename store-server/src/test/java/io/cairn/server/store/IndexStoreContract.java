package io.cairn.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.id.ImageDigest;
import io.cairn.id.PageId;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What every {@link IndexStore} must do, run against each backend through a {@link StoreFixture}. */
public abstract class IndexStoreContract extends StoreContractSupport {
  private static final Tag WEB = Tag.parse("team/web:latest");
  private static final Tag WEB_OLD = Tag.parse("team/web:v1");
  private static final Tag BASE = Tag.parse("base");

  private ImageRoot publish(IndexPage p, Optional<Tag> tag) {
    insert(0, p.count());
    store.index().putPages(List.of(p));
    ImageRoot r = root(p);
    store.index().commit(r, tag);
    return r;
  }

  @Test
  void commit_whenPagesPut_pagesAndRootReadBackByteForByte() {
    IndexPage p = page(0, 10);
    IndexPage q = page(10, 30);
    store.index().putPages(List.of(p, q));
    assertTrue(store.index().hasPage(p.id()));
    ImageRoot r = root(p);
    store.index().commit(r, Optional.empty());
    assertArrayEquals(p.encoded(), store.index().page(p.id()).orElseThrow().encoded());
    assertArrayEquals(q.encoded(), store.index().page(q.id()).orElseThrow().encoded());
    assertArrayEquals(r.encoded(), store.index().root(r.digest()).orElseThrow().encoded());
    assertEquals(List.of(r.digest()), store.index().images());
    assertEquals(List.of(), store.index().tags());
  }

  @Test
  void page_whenUnknownOrZero_isEmptyAndZeroCountsAsPresent() {
    assertEquals(Optional.empty(), store.index().page(page(0, 3).id()));
    assertFalse(store.index().hasPage(page(0, 3).id()));
    assertTrue(store.index().hasPage(PageId.ZERO));
    assertEquals(Optional.empty(), store.index().page(PageId.ZERO));
    assertEquals(Optional.empty(), store.index().root(root(page(0, 3)).digest()));
  }

  @Test
  void commit_whenTagged_tagPointsAtTheDigestAndMovesToTheNext() {
    long t0 = System.currentTimeMillis();
    ImageRoot one = publish(page(0, 5), Optional.of(WEB));
    IndexStore.TagEntry e = store.index().tag(WEB).orElseThrow();
    assertEquals(one.digest(), e.digest());
    assertEquals(WEB, e.tag());
    assertTrue(e.updatedMillis() >= t0, "updated " + e.updatedMillis() + " before " + t0);
    ImageRoot two = publish(page(5, 9), Optional.of(WEB));
    assertEquals(two.digest(), store.index().tag(WEB).orElseThrow().digest());
    assertEquals(Set.of(one.digest(), two.digest()), new HashSet<>(store.index().images()));
  }

  @Test
  void tags_whenSeveral_listedInNameThenTagOrder() {
    ImageRoot a = publish(page(0, 2), Optional.of(WEB));
    ImageRoot b = publish(page(2, 4), Optional.of(WEB_OLD));
    ImageRoot c = publish(page(4, 6), Optional.of(BASE));
    List<Tag> names = store.index().tags().stream().map(IndexStore.TagEntry::tag).toList();
    assertEquals(List.of(BASE, WEB, WEB_OLD), names);
    List<ImageDigest> digests = store.index().tags().stream().map(IndexStore.TagEntry::digest).toList();
    assertEquals(List.of(c.digest(), a.digest(), b.digest()), digests);
  }

  @Test
  void deleteTag_whenPresent_returnsTrueAndKeepsTheImage() {
    ImageRoot r = publish(page(0, 4), Optional.of(WEB));
    assertTrue(store.index().deleteTag(WEB));
    assertEquals(Optional.empty(), store.index().tag(WEB));
    assertFalse(store.index().deleteTag(WEB));
    assertFalse(store.index().deleteTag(BASE));
    assertEquals(List.of(), store.index().tags());
    assertArrayEquals(r.encoded(), store.index().root(r.digest()).orElseThrow().encoded());
    // A tag made again after deletion points at the new image.
    ImageRoot again = publish(page(4, 6), Optional.of(WEB));
    assertEquals(again.digest(), store.index().tag(WEB).orElseThrow().digest());
  }

  @Test
  void deleteImage_whenUntagged_rootIsGone() {
    ImageRoot r = publish(page(0, 4), Optional.empty());
    store.index().deleteImage(r.digest());
    assertEquals(Optional.empty(), store.index().root(r.digest()));
    assertEquals(List.of(), store.index().images());
  }

  @Test
  void deletePages_whenStored_pagesAreGoneAndOthersStay() {
    IndexPage p = page(0, 4);
    IndexPage q = page(4, 8);
    store.index().putPages(List.of(p, q));
    store.index().commit(root(p), Optional.empty());
    store.index().deletePages(List.of(p.id()));
    assertFalse(store.index().hasPage(p.id()));
    assertEquals(Optional.empty(), store.index().page(p.id()));
    List<PageId> seen = new ArrayList<>();
    store.index().forEachPage(seen::add);
    assertEquals(List.of(q.id()), seen);
    // Stored again (a re-publish): present again.
    store.index().putPages(List.of(p));
    store.index().commit(root(p), Optional.empty());
    assertArrayEquals(p.encoded(), store.index().page(p.id()).orElseThrow().encoded());
  }

  @Test
  void quarantinePage_whenStored_pageIsAbsentAndQuarantinedUntilPutAgain() {
    IndexPage p = page(0, 4);
    store.index().putPages(List.of(p));
    store.index().commit(root(p), Optional.empty());
    assertFalse(store.index().isQuarantined(p.id()));
    store.index().quarantinePage(p.id());
    assertTrue(store.index().isQuarantined(p.id()));
    assertFalse(store.index().hasPage(p.id()));
    assertEquals(Optional.empty(), store.index().page(p.id()));
    store.index().putPages(List.of(p));
    store.index().commit(root(p), Optional.empty());
    assertFalse(store.index().isQuarantined(p.id()));
    assertArrayEquals(p.encoded(), store.index().page(p.id()).orElseThrow().encoded());
  }

  @Test
  void pageTouchedMillis_whenPutOrTouched_isAtLeastThatTime() {
    IndexPage p = page(0, 4);
    assertEquals(0, store.index().pageTouchedMillis(p.id()));
    long t0 = System.currentTimeMillis();
    store.index().putPages(List.of(p));
    assertTrue(store.index().pageTouchedMillis(p.id()) >= t0);
    long t1 = System.currentTimeMillis();
    store.index().touchPages(List.of(p.id()));
    assertTrue(store.index().pageTouchedMillis(p.id()) >= t1);
  }

  @Test
  void reopen_whenCommitted_keepsPagesRootsAndTags() {
    IndexPage p = page(0, 6);
    ImageRoot r = publish(p, Optional.of(WEB));
    IndexPage gone = page(6, 8);
    store.index().putPages(List.of(gone));
    store.index().commit(root(gone), Optional.empty());
    store.index().deletePages(List.of(gone.id()));
    reopen();
    assertArrayEquals(p.encoded(), store.index().page(p.id()).orElseThrow().encoded());
    assertEquals(Optional.empty(), store.index().page(gone.id()));
    assertArrayEquals(r.encoded(), store.index().root(r.digest()).orElseThrow().encoded());
    assertEquals(r.digest(), store.index().tag(WEB).orElseThrow().digest());
    List<PageId> seen = new ArrayList<>();
    store.index().forEachPage(seen::add);
    assertEquals(List.of(p.id()), seen);
  }

  @Test
  void commitPrivate_whenNew_ownedAndChargedUntilACommitPublishesIt() {
    io.cairn.id.UserName carol = io.cairn.id.UserName.of("carol");
    io.cairn.id.UserName dave = io.cairn.id.UserName.of("dave");
    IndexPage p = page(0, 7);
    insert(0, p.count());
    store.index().putPages(List.of(p));
    ImageRoot r = root(p);
    assertTrue(store.index().commitPrivate(r, carol, 4096));
    assertTrue(store.index().commitPrivate(r, dave, 8192));
    assertArrayEquals(r.encoded(), store.index().root(r.digest()).orElseThrow().encoded());
    assertEquals(java.util.Map.of(carol, 4096L, dave, 8192L), store.index().owners(r.digest()));
    assertEquals(java.util.Map.of(r.digest(), java.util.Map.of(carol, 4096L, dave, 8192L)),
        store.index().privateImages());
    store.index().dropOwner(r.digest(), dave);
    assertEquals(java.util.Map.of(carol, 4096L), store.index().owners(r.digest()));
    store.index().commit(r, Optional.of(WEB));
    assertEquals(java.util.Map.of(), store.index().owners(r.digest()));
    assertEquals(java.util.Map.of(), store.index().privateImages());
    // Public now: a snapshot with the same bytes owns nothing.
    assertFalse(store.index().commitPrivate(r, carol, 4096));
    assertEquals(java.util.Map.of(), store.index().owners(r.digest()));
  }

  @Test
  void deleteImage_whenPrivate_removesRootAndOwners() {
    io.cairn.id.UserName carol = io.cairn.id.UserName.of("carol");
    IndexPage p = page(3, 9);
    insert(3, p.count());
    store.index().putPages(List.of(p));
    ImageRoot r = root(p);
    store.index().commitPrivate(r, carol, 100);
    store.index().deleteImage(r.digest());
    assertEquals(Optional.empty(), store.index().root(r.digest()));
    assertEquals(java.util.Map.of(), store.index().owners(r.digest()));
    assertEquals(java.util.Map.of(), store.index().privateImages());
  }
}
