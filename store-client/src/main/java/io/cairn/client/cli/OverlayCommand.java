package io.cairn.client.cli;

import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.client.ImageInfo;
import io.cairn.client.OverlayClient;
import io.cairn.client.OverlayInfo;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.id.Tag;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairn overlay ...}: a user's copy-on-write disks on templates. */
@Command(name = "overlay", mixinStandardHelpOptions = true,
    description = "Your copy-on-write disks on templates: create, write, read, snapshot, reset, rm, ls, info, resize.",
    subcommands = {OverlayCommand.Create.class, OverlayCommand.Write.class, OverlayCommand.Read.class,
        OverlayCommand.Snapshot.class, OverlayCommand.Reset.class, OverlayCommand.Remove.class,
        OverlayCommand.ListOverlays.class, OverlayCommand.Info.class, OverlayCommand.Resize.class})
final class OverlayCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("cairn overlay: say what to do: create, write, read, snapshot, reset, rm, ls, info or resize"
        + " (cairn overlay --help)");
    return 2;
  }

  /** Prints an overlay as a person or a script wants it. */
  static void print(OverlayInfo o, boolean json, String verb) {
    if (json) {
      Output.json(System.out, o.toJson());
      return;
    }
    System.out.printf("%s %s: %s on %s, generation %d%n", verb, o.name(), Output.bytes(o.size()),
        o.base().toString().substring(0, 19) + "…", o.generation());
  }



  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create an overlay on a template; nothing is copied.")
  static final class Create implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Parameters(index = "0", paramLabel = "NAME", description = "Overlay name, e.g. my-vm.")
    String name;

    @Option(names = "--base", required = true, paramLabel = "NAME[:TAG]|DIGEST", description = "Template to start from.")
    String base;

    @Override
    public Integer call() {
      try (CairnClient c = opts.client(false)) {
        print(c.overlays().create(OverlayName.of(name), ImageRef.parse(base)), opts.json, "created");
      }
      return 0;
    }
  }

  @Command(name = "write", mixinStandardHelpOptions = true,
      description = "Write a file's bytes into an overlay at an offset (pieces of 16 MiB, each atomic).")
  static final class Write implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "FILE", description = "Bytes to write.")
    Path file;

    @Option(names = "--at", paramLabel = "OFFSET", defaultValue = "0", description = "Byte offset (default: 0).")
    long at;

    @Override
    public Integer call() throws Exception {
      long t0 = System.nanoTime();
      long n = Files.size(file);
      OverlayInfo o;
      try (CairnClient c = opts.client(false)) {
        o = c.overlays().write(OverlayName.of(name), at, file);
      }
      if (opts.json) {
        Map<String, Object> m = o.toJson();
        m.put("bytesWritten", n);
        Output.json(System.out, m);
      } else {
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("wrote %s to %s at %d: generation %d — %.1f s%n", Output.bytes(n), o.name(), at,
            o.generation(), s);
      }
      return 0;
    }
  }

  @Command(name = "read", mixinStandardHelpOptions = true,
      description = "Save an overlay's disk (or a range of it) to a file.")
  static final class Read implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "FILE")
    Path file;

    @Option(names = "--at", paramLabel = "OFFSET", description = "Read from this offset...")
    Long at;

    @Option(names = "--length", paramLabel = "BYTES", description = "...this many bytes (at most 16 MiB).")
    Integer length;

    @Override
    public Integer call() throws Exception {
      OverlayName n = OverlayName.of(name);
      try (CairnClient c = opts.client(false)) {
        OverlayClient ov = c.overlays();
        if (at == null && length == null) {
          ov.download(n, file);
          System.out.println("saved " + n + " to " + file);
          return 0;
        }
        int len = length == null ? OverlayClient.MAX_WRITE : Math.min(length, OverlayClient.MAX_WRITE);
        byte[] b = new byte[len];
        int got = ov.read(n, at == null ? 0 : at, b, 0, len);
        Files.write(file, java.util.Arrays.copyOf(b, Math.max(0, got)));
        System.out.println("saved " + Math.max(0, got) + " bytes of " + n + " to " + file);
      }
      return 0;
    }
  }

  @Command(name = "snapshot", mixinStandardHelpOptions = true,
      description = "Freeze an overlay into a new immutable image; with --tag (publisher) publish it as a template.")
  static final class Snapshot implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--tag", paramLabel = "NAME:TAG", description = "Tag the new image, e.g. web:1.5.")
    String tag;

    @Override
    public Integer call() {
      ImageInfo i;
      try (CairnClient c = opts.client(false)) {
        i = c.overlays().snapshot(OverlayName.of(name), Optional.ofNullable(tag).map(Tag::parse));
      }
      if (opts.json) {
        Output.json(System.out, Map.of("digest", i.digest().toString(), "size", i.size(),
            "tags", i.tags().stream().map(Tag::toString).toList()));
      } else {
        System.out.println("snapshot of " + name + ": " + i.digest() + (tag == null ? "" : " tagged " + tag));
      }
      return 0;
    }
  }

  @Command(name = "reset", mixinStandardHelpOptions = true, description = "Discard every change to an overlay.")
  static final class Reset implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
      try (CairnClient c = opts.client(false)) {
        print(c.overlays().reset(OverlayName.of(name)), opts.json, "reset");
      }
      return 0;
    }
  }

  @Command(name = "rm", mixinStandardHelpOptions = true, description = "Delete an overlay.")
  static final class Remove implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
      try (CairnClient c = opts.client(false)) {
        c.overlays().delete(OverlayName.of(name));
      }
      if (opts.json) {
        Output.json(System.out, java.util.Map.of("deleted", name)); // escaped, whatever the name holds
      } else {
        System.out.println("deleted overlay " + name);
      }
      return 0;
    }
  }

  @Command(name = "ls", mixinStandardHelpOptions = true, description = "List your overlays.")
  static final class ListOverlays implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Override
    public Integer call() {
      List<OverlayInfo> all;
      try (CairnClient c = opts.client(false)) {
        all = c.overlays().list();
      }
      if (opts.json) {
        Output.json(System.out, all.stream().map(OverlayInfo::toJson).toList());
        return 0;
      }
      if (all.isEmpty()) {
        System.out.println("no overlays; create one with: cairn overlay create NAME --base TEMPLATE:TAG");
      }
      for (OverlayInfo o : all) {
        System.out.printf("%-24s %10s  gen %-6d base %s%n", o.name(), Output.bytes(o.size()), o.generation(),
            o.base().toString().substring(0, 19) + "…");
      }
      return 0;
    }
  }

  @Command(name = "info", mixinStandardHelpOptions = true,
      description = "Show an overlay: base, size, blocks written, data it adds.")
  static final class Info implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
      OverlayInfo o;
      try (CairnClient c = opts.client(false)) {
        o = c.overlays().info(OverlayName.of(name));
      }
      if (opts.json) {
        Output.json(System.out, o.toJson());
        return 0;
      }
      System.out.println("overlay:        " + o.name() + " (owner " + o.owner() + ")");
      System.out.println("base:           " + o.base());
      System.out.println("size:           " + Output.bytes(o.size()) + " (" + o.size() + " bytes)");
      System.out.println("generation:     " + o.generation());
      o.usage().ifPresent(u -> {
        System.out.println("blocks written: " + u.blocksWritten() + " (" + u.distinctBlocks() + " distinct non-zero)");
        System.out.println("data added:     " + Output.bytes(u.dataBytes()));
      });
      return 0;
    }
  }

  @Command(name = "resize", mixinStandardHelpOptions = true,
      description = "Grow an overlay's disk with zeros, or shrink it with --force.")
  static final class Resize implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "SIZE", description = "New size, e.g. 20G or 1048576.")
    String size;

    @Option(names = "--force", description = "Allow shrinking (discards data past the new end).")
    boolean force;

    @Override
    public Integer call() {
      try (CairnClient c = opts.client(false)) {
        print(c.overlays().resize(OverlayName.of(name), ServerOptions.parseSize(size), force), opts.json, "resized");
      }
      return 0;
    }
  }
}
