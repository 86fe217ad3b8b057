package io.cairn.it;

import static org.junit.jupiter.api.Assertions.fail;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * External tools the end-to-end tests drive (curl, qemu-img, fusermount). A missing tool skips the
 * test with a visible reason on a developer machine and fails it under CI ({@code CI=true}), where
 * .ci/run installs everything.
 */
public final class Tools {
  private Tools() {}

  public static boolean onCi() {
    return "true".equals(System.getenv("CI"));
  }

  /** Absolute path of {@code tool} on PATH, or skips/fails the calling test. */
  public static String require(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      Path p = Path.of(dir, tool);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    String why = tool + " is not installed (apt-get install it, or run .ci/run which does)";
    if (onCi()) {
      fail(why);
    }
    Assumptions.abort(why);
    return null;
  }
}
