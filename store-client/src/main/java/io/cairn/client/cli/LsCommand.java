package io.cairn.client.cli;

import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.client.ImageInfo;
import io.cairn.client.TagInfo;
import io.cairn.id.Tag;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "ls", mixinStandardHelpOptions = true,
    description = "List the images and tags on a Cairn server ('cairn images' lists a local store).")
final class LsCommand implements Callable<Integer> {
  @Mixin ServerOptions opts;

  @Override
  public Integer call() {
    List<ImageInfo> images;
    List<TagInfo> tags;
    try (CairnClient c = opts.client(false)) {
      images = c.images();
      tags = c.tags();
    }
    if (opts.json) {
      List<Map<String, Object>> out = new ArrayList<>();
      for (ImageInfo i : images) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("digest", i.digest().toString());
        m.put("size", i.size());
        m.put("blocks", i.blocks());
        m.put("tags", i.tags().stream().map(Tag::toString).collect(Collectors.toList()));
        out.add(m);
      }
      Output.json(System.out, Map.of("images", out));
      return 0;
    }
    System.out.printf("%-40s %-19s %10s%n", "TAG", "DIGEST", "SIZE");
    Map<String, ImageInfo> byDigest = new LinkedHashMap<>();
    for (ImageInfo i : images) {
      byDigest.put(i.digest().toString(), i);
    }
    for (TagInfo t : tags) {
      ImageInfo i = byDigest.get(t.digest().toString());
      System.out.printf("%-40s %-19s %10s%n", t.tag(), "sha256:" + t.digest().abbreviate(),
          i == null ? "?" : Output.bytes(i.size()));
    }
    for (ImageInfo i : images) {
      if (i.tags().isEmpty()) {
        System.out.printf("%-40s %-19s %10s%n", "<untagged>", "sha256:" + i.digest().abbreviate(), Output.bytes(i.size()));
      }
    }
    return 0;
  }
}
