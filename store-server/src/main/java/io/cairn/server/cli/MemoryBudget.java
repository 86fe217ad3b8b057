package io.cairn.server.cli;

import io.cairn.cli.Sizes;
import io.cairn.error.InvalidInputException;
import io.cairn.server.store.StoreMemory;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one memory budget of {@code cairn serve} ({@code --memory}, env {@code CAIRN_MEMORY}) split
 * into the parts that take memory. The launcher runs {@link #main} to get the JVM options (the heap
 * is fixed when the JVM starts), and the server sizes RocksDB from the same numbers, so the two
 * cannot disagree.
 *
 * <p>Of a budget B: Java heap 3/8, direct buffers (Undertow's and NIO's) 1/16, RocksDB block caches
 * 1/8, RocksDB memtables 1/8; the remaining 5/16 is for what has no switch: metaspace and JIT code
 * (about 100 MiB together for serve), thread stacks, the GC's own tables, RocksDB's table readers and
 * malloc's arenas. Measured with 1 GiB under 64 disk GETs, 64 pulls and 8 overlay writers: see
 * docs/operations.md, "Memory".
 */
public final class MemoryBudget {
  public static final String DEFAULT = "1G";
  /** Below this the fixed costs (metaspace, code, stacks) leave too little for the parts we size. */
  static final long MIN_BYTES = 256L << 20;

  private final long total;

  private MemoryBudget(long total) {
    this.total = total;
  }

  /** A budget typed as {@code 1G}, {@code 768M}...; at least 256M. */
  public static MemoryBudget parse(String size) {
    long b = Sizes.parse(size);
    if (b < MIN_BYTES) {
      throw new InvalidInputException("--memory " + size + " is too small: cairn serve needs at least 256M");
    }
    return new MemoryBudget(b);
  }

  /**
   * The budget a {@code cairn serve ARGS} command line asks for: {@code --memory}, else CAIRN_MEMORY,
   * else {@code memory} in the configuration file, else 1G (the precedence of every serve setting).
   */
  public static MemoryBudget of(List<String> serveArgs, Map<String, String> env) {
    String size = Optional.ofNullable(env.get("CAIRN_MEMORY")).filter(s -> !s.isBlank())
        .or(() -> io.cairn.cli.config.ConfigFile.forServe(serveArgs, env).flatMap(c -> c.value("memory")))
        .orElse(DEFAULT);
    for (int i = 0; i < serveArgs.size(); i++) {
      String a = serveArgs.get(i);
      if (a.equals("--memory") && i + 1 < serveArgs.size()) {
        size = serveArgs.get(i + 1);
      } else if (a.startsWith("--memory=")) {
        size = a.substring("--memory=".length());
      }
    }
    return parse(size);
  }

  public long totalBytes() {
    return total;
  }

  public long heapBytes() {
    return total / 8 * 3;
  }

  public long directBytes() {
    return total / 16;
  }

  public StoreMemory store() {
    return new StoreMemory(total / 8, total / 8);
  }

  /** The options the JVM of {@code cairn serve} must start with. */
  public List<String> jvmOptions() {
    return List.of("-Xmx" + (heapBytes() >> 20) + "m", "-XX:MaxDirectMemorySize=" + (directBytes() >> 20) + "m");
  }

  /**
   * A warning when this JVM's heap is larger than the budget's share (started without the launcher,
   * or with an -Xmx of its own in CAIRN_JAVA_OPTS): RSS can then pass the budget.
   */
  public Optional<String> heapWarning(long maxHeap) {
    // Runtime.maxMemory() is a little under -Xmx with some collectors; allow 2%.
    if (maxHeap <= heapBytes() + heapBytes() / 50) {
      return Optional.empty();
    }
    return Optional.of("cairn: warning: the Java heap may grow to " + (maxHeap >> 20) + " MiB, more than the "
        + (heapBytes() >> 20) + " MiB share of --memory " + (total >> 20) + "M; the process can outgrow its budget."
        + " Start it with ./cairn serve (which sets -Xmx from --memory or CAIRN_MEMORY) or raise --memory");
  }

  /** Prints the JVM options for {@code cairn serve ARGS} on one line; used by the launcher. */
  public static void main(String[] args) {
    try {
      System.out.println(String.join(" ", of(List.of(args), System.getenv()).jvmOptions()));
    } catch (InvalidInputException e) {
      System.err.println("cairn: " + e.getMessage());
      System.exit(2);
    }
  }
}
