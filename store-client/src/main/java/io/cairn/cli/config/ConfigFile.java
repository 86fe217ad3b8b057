package io.cairn.cli.config;

import io.cairn.error.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseError;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/**
 * A parsed {@code cairn.conf}: flat TOML, one scalar per key, each kept with the line it is on so
 * that every later error (unknown key, bad value) can name the line.
 */
public final class ConfigFile {
  /** Read when it exists and neither {@code --config} nor CAIRN_CONFIG names another file. */
  public static final Path SYSTEM = Path.of("/etc/cairn/cairn.conf");
  public static final String ENV = "CAIRN_CONFIG";

  /** One setting: its value as the flag would take it on the command line, and its line (from 1). */
  public record Setting(String key, String value, int line) {}

  private final Path path;
  private final Map<String, Setting> settings;

  private ConfigFile(Path path, Map<String, Setting> settings) {
    this.path = path;
    this.settings = settings;
  }

  public Path path() {
    return path;
  }

  /** The settings in file order. */
  public Map<String, Setting> settings() {
    return settings;
  }

  public Optional<String> value(String key) {
    return Optional.ofNullable(settings.get(key)).map(Setting::value);
  }

  /** Where a setting is, as a person reads it: {@code FILE line N}. */
  public String where(Setting s) {
    return path + " line " + s.line();
  }

  /**
   * The file {@code cairn serve ARGS} reads: {@code --config FILE} in the arguments, else
   * CAIRN_CONFIG, else {@link #SYSTEM} if it exists. A file named explicitly must exist.
   */
  public static Optional<ConfigFile> forServe(List<String> serveArgs, Map<String, String> env) {
    Optional<Path> named = Optional.empty();
    for (int i = 0; i < serveArgs.size(); i++) {
      String a = serveArgs.get(i);
      if (a.equals("--")) {
        break;
      } else if (a.equals("--config") && i + 1 < serveArgs.size()) {
        named = Optional.of(Path.of(serveArgs.get(i + 1)));
      } else if (a.startsWith("--config=")) {
        named = Optional.of(Path.of(a.substring("--config=".length())));
      }
    }
    if (named.isEmpty()) {
      named = Optional.ofNullable(env.get(ENV)).filter(s -> !s.isBlank()).map(Path::of);
    }
    if (named.isPresent()) {
      return Optional.of(read(named.get()));
    }
    return Files.isRegularFile(SYSTEM) ? Optional.of(read(SYSTEM)) : Optional.empty();
  }

  /** Parses {@code file}; a syntax error, a table or an array is an error naming the file and line. */
  public static ConfigFile read(Path file) {
    TomlParseResult toml;
    try {
      toml = Toml.parse(file);
    } catch (NoSuchFileException e) {
      throw new InvalidInputException("configuration file " + file + " does not exist");
    } catch (IOException e) {
      throw new InvalidInputException("cannot read configuration file " + file + ": " + e.getMessage());
    }
    if (toml.hasErrors()) {
      TomlParseError first = toml.errors().get(0);
      throw new InvalidInputException(file + " line " + line(first.position()) + ": not valid TOML: "
          + stripPosition(first.getMessage()));
    }
    Map<String, Setting> settings = new LinkedHashMap<>();
    for (String key : toml.keySet()) {
      List<String> path = List.of(key);
      Object v = toml.get(path);
      int line = line(toml.inputPositionOf(path));
      if (v instanceof TomlTable || v instanceof TomlArray) {
        throw new InvalidInputException(file + " line " + line + ": '" + key + "' must be a single value"
            + " (a string, number or true/false): cairn.conf has no tables or arrays");
      }
      settings.put(key, new Setting(key, String.valueOf(v), line));
    }
    // tomlj keeps keys in a hash map; the file's order reads better in --print-config and errors.
    Map<String, Setting> ordered = new LinkedHashMap<>();
    settings.values().stream().sorted(java.util.Comparator.comparingInt(Setting::line))
        .forEach(s -> ordered.put(s.key(), s));
    return new ConfigFile(file, ordered);
  }

  private static int line(TomlPosition p) {
    return p == null ? 0 : p.line();
  }

  /** tomlj ends its messages with " (line L, column C)"; we say the line ourselves. */
  private static String stripPosition(String message) {
    return message.replaceFirst("\\s*\\(line \\d+, column \\d+\\)$", "");
  }
}
