package io.cairn.it;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code cairn} commands in a child JVM on this test's class path, the way a person runs the
 * launcher: a real process with its own exit code, stdout and stderr.
 */
public final class Cli {
  private Cli() {}

  /** What a finished command printed and returned. */
  public record Result(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  /** The command line that starts {@code cairn} with {@code args} in a child JVM. */
  public static List<String> command(String... args) {
    return command(List.of("-Xmx512m"), args);
  }

  /** As {@link #command(String...)}, with the given JVM options (e.g. a heap limit). */
  public static List<String> command(List<String> jvmOptions, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("io.cairn.cli.Cairn");
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Starts {@code cairn args} with stdout and stderr sent to files in {@code logDir}. */
  public static Process start(Path logDir, String name, String... args) throws IOException {
    return start(logDir, name, java.util.Map.of(), args);
  }

  /** As {@link #start(Path, String, String...)}, with {@code env} added to the environment. */
  public static Process start(Path logDir, String name, java.util.Map<String, String> env, String... args)
      throws IOException {
    return start(logDir, name, env, List.of("-Xmx512m"), args);
  }

  /** As {@link #start(Path, String, java.util.Map, String...)}, in a JVM started with {@code jvmOptions}. */
  public static Process start(Path logDir, String name, java.util.Map<String, String> env, List<String> jvmOptions,
      String... args) throws IOException {
    Files.createDirectories(logDir);
    ProcessBuilder pb = new ProcessBuilder(command(jvmOptions, args));
    pb.environment().remove("CAIRN_DATA");
    pb.environment().remove("CAIRN_TOKEN");
    pb.environment().remove("CAIRN_TRUST");
    pb.environment().remove("CAIRN_CA");
    pb.environment().remove("CAIRN_MEMORY");
    pb.environment().remove("CAIRN_CONFIG");
    serverToken(args).ifPresent(t -> pb.environment().put("CAIRN_TOKEN", t));
    pb.environment().putAll(env);
    pb.redirectOutput(logDir.resolve(name + ".out").toFile());
    pb.redirectError(logDir.resolve(name + ".err").toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    return pb.start();
  }

  /** The admin token of the test server named by {@code --server URL[,URL...]} (the first), so commands run as admin by default. */
  private static java.util.Optional<String> serverToken(String... args) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--server")) {
        return ServerProcess.tokenForPort(java.net.URI.create(args[i + 1].split(",")[0]).getPort());
      }
    }
    return java.util.Optional.empty();
  }

  /** Runs {@code cairn args} to completion (at most two minutes). */
  public static Result run(String... args) throws IOException, InterruptedException {
    return runWithEnv(java.util.Map.of(), args);
  }

  /** Runs {@code cairn args} with {@code env} added to its environment (e.g. CAIRN_TOKEN, CAIRN_TRUST). */
  public static Result runWithEnv(java.util.Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    Path logs = Files.createTempDirectory("cairn-cli");
    try {
      Process p = start(logs, "cmd", env, args);
      if (!p.waitFor(2, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError("cairn " + String.join(" ", args) + " did not finish in 2 minutes");
      }
      return new Result(p.exitValue(), Files.readString(logs.resolve("cmd.out"), StandardCharsets.UTF_8),
          Files.readString(logs.resolve("cmd.err"), StandardCharsets.UTF_8));
    } finally {
      for (String f : new String[] {"cmd.out", "cmd.err"}) {
        Files.deleteIfExists(logs.resolve(f));
      }
      Files.deleteIfExists(logs);
    }
  }
}
