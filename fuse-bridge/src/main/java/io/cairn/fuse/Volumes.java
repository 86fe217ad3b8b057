package io.cairn.fuse;

import io.cairn.client.CairnClient;
import io.cairn.client.OverlayInfo;
import io.cairn.id.OverlayName;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The overlays this mount has open, by name, and where their journals live:
 * {@code CACHE/journals/HOST_PORT/OWNER/NAME.journal}, so one cache directory serves several
 * servers and users without mixing their journals.
 */
final class Volumes implements AutoCloseable {
  private final CairnClient client;
  private final Path root;
  private final ServerHealth health;
  private final EventLog log;
  private final Map<OverlayName, OverlayVolume> open = new HashMap<>();
  private final OverlayVolume.JournalLimit limit;

  Volumes(CairnClient client, Path cacheDir, ServerHealth health, EventLog log, OverlayVolume.JournalLimit limit) {
    this.limit = limit;
    this.client = client;
    URI u = client.endpoint();
    this.root = cacheDir.resolve("journals").resolve(u.getHost() + "_" + (u.getPort() < 0 ? 80 : u.getPort()));
    this.health = health;
    this.log = log;
  }

  private Path journalPath(OverlayInfo info) {
    return root.resolve(info.owner()).resolve(info.name().value() + ".journal");
  }

  /** The volume of {@code info}'s overlay, opened (and its journal replayed) on first use. */
  OverlayVolume get(OverlayInfo info) throws IOException {
    synchronized (open) {
      OverlayVolume v = open.get(info.name());
      if (v == null || !v.info().created().equals(info.created())) {
        v = OverlayVolume.open(client, info, journalPath(info), health, log, limit);
        open.put(info.name(), v);
      }
      return v;
    }
  }

  /** Opens every overlay that has a journal, so writes a previous mount left unflushed get sent. */
  void replay(List<OverlayInfo> overlays) {
    Map<String, OverlayInfo> byOwnerAndName = new HashMap<>();
    for (OverlayInfo o : overlays) {
      byOwnerAndName.put(o.owner() + "/" + o.name().value(), o);
    }
    if (!Files.isDirectory(root)) {
      return;
    }
    try (Stream<Path> files = Files.walk(root, 2)) {
      for (Path p : (Iterable<Path>) files.filter(f -> f.getFileName().toString().endsWith(".journal"))::iterator) {
        String name = p.getFileName().toString().replaceFirst("\\.journal$", "");
        OverlayInfo info = byOwnerAndName.get(p.getParent().getFileName() + "/" + name);
        if (info == null) {
          if (overlays.stream().anyMatch(o -> o.owner().equals(p.getParent().getFileName().toString()))) {
            log.event("error", "journal " + p + " is for overlay " + name + ", which no longer exists; left in place");
          }
          continue;
        }
        try {
          get(info);
        } catch (IOException e) {
          log.event("error", "cannot open journal " + p + ": " + e.getMessage());
        }
      }
    } catch (IOException e) {
      log.event("error", "cannot list journals in " + root + ": " + e.getMessage());
    }
  }

  /** The size of {@code info}'s overlay as this mount has it, if open: a truncate changes it before the listing does. */
  java.util.OptionalLong size(OverlayInfo info) {
    synchronized (open) {
      OverlayVolume v = open.get(info.name());
      return v != null && v.info().created().equals(info.created()) ? java.util.OptionalLong.of(v.size())
          : java.util.OptionalLong.empty();
    }
  }

  List<OverlayVolume> all() {
    synchronized (open) {
      return new ArrayList<>(open.values());
    }
  }

  @Override
  public void close() {
    for (OverlayVolume v : all()) {
      try {
        v.close();
      } catch (IOException e) {
        log.event("error", "closing the journal of " + v.info().name() + " failed: " + e.getMessage());
      }
    }
  }
}
