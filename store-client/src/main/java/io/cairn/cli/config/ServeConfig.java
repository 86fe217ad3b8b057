package io.cairn.cli.config;

import io.cairn.cli.config.ConfigFile.Setting;
import io.cairn.error.InvalidInputException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Connects {@code cairn.conf} to the options of {@code cairn serve}, whatever they are: every option
 * is a key (its longest name without dashes), the file is picocli's default-value provider, and the
 * precedence comes out as flag, then environment, then file, then the built-in default.
 *
 * <p>Picocli asks a default-value provider before it looks at an option's own {@code defaultValue},
 * so a provider that always answered from the file would put the file above the environment for
 * options whose default reads {@code ${env:NAME:-...}}. This provider therefore stays silent for
 * such an option while NAME is set, and the annotation's environment lookup applies.
 */
public final class ServeConfig implements CommandLine.IDefaultValueProvider {
  static final String CONFIG = "--config";
  static final String PRINT_CONFIG = "--print-config";
  private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)");

  /** Where an effective value came from, in order of precedence. */
  public enum Origin { FLAG, ENV, FILE, DEFAULT }

  private final Optional<ConfigFile> file;
  private final Map<String, String> env;
  private final List<String> serveArgs;
  /** The settable options by key, in the order {@code serve --help} shows them. */
  private final Map<String, OptionSpec> options = new LinkedHashMap<>();
  /** The environment variables each option's default reads, found before interpolation. */
  private final Map<OptionSpec, List<String>> envNames = new LinkedHashMap<>();

  private ServeConfig(CommandSpec serve, Optional<ConfigFile> file, List<String> serveArgs, Map<String, String> env) {
    this.file = file;
    this.env = env;
    this.serveArgs = serveArgs;
    Boolean interpolate = serve.interpolateVariables();
    serve.interpolateVariables(false); // to read "${env:NAME:-x}" as written, not its value
    try {
      for (OptionSpec o : serve.options()) {
        if (o.usageHelp() || o.versionHelp() || o.longestName().equals(CONFIG) || o.longestName().equals(PRINT_CONFIG)) {
          continue;
        }
        options.put(key(o), o);
        List<String> names = new ArrayList<>();
        Matcher m = ENV_DEFAULT.matcher(String.valueOf(o.defaultValue()));
        while (m.find()) {
          names.add(m.group(1));
        }
        envNames.put(o, names);
      }
    } finally {
      serve.interpolateVariables(interpolate);
    }
  }

  /** The key of an option in the file: its longest name without leading dashes. */
  static String key(OptionSpec o) {
    return o.longestName().replaceFirst("^-+", "");
  }

  /**
   * Adds {@code --config} and {@code --print-config} to {@code serve} in {@code cl} and, when
   * {@code args} runs serve, reads the file and makes it the defaults. An unreadable file, a syntax
   * error or an unknown key throws {@link InvalidInputException} naming the file and line.
   */
  public static void install(CommandLine cl, String[] args, Map<String, String> env) {
    CommandLine serveCl = cl.getSubcommands().get("serve");
    if (serveCl == null) {
      return;
    }
    CommandSpec serve = serveCl.getCommandSpec();
    serve.addOption(OptionSpec.builder(CONFIG).paramLabel("FILE").type(Path.class)
        .description("Read settings from this TOML file: keys are these flags without dashes; flags and"
            + " environment variables override it (env " + ConfigFile.ENV + "; default: " + ConfigFile.SYSTEM
            + " if it exists).").build());
    serve.addOption(OptionSpec.builder(PRINT_CONFIG).arity("0")
        .description("Print the effective settings and where each came from (flag, env, file line, default), then exit.")
        .build());
    if (args.length == 0 || !args[0].equals("serve")) {
      return;
    }
    List<String> serveArgs = List.of(args).subList(1, args.length);
    ServeConfig config = new ServeConfig(serve, ConfigFile.forServe(serveArgs, env), serveArgs, env);
    config.checkKeys();
    serveCl.setDefaultValueProvider(config);

    CommandLine.IParameterExceptionHandler badValue = cl.getParameterExceptionHandler();
    cl.setParameterExceptionHandler((e, a) -> {
      Optional<String> where = e.getArgSpec() instanceof OptionSpec o ? config.fileLine(o) : Optional.empty();
      if (where.isEmpty()) {
        return badValue.handleParseException(e, a);
      }
      e.getCommandLine().getErr().println("cairn: " + where.get() + ": bad value for '" + key((OptionSpec) e.getArgSpec())
          + "': " + e.getMessage());
      return 2;
    });
    CommandLine.IExecutionExceptionHandler failed = cl.getExecutionExceptionHandler();
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> failed.handleExecutionException(config.annotate(e), cmd, parsed));
    cl.setExecutionStrategy(parsed -> {
      ParseResult sub = parsed.subcommand();
      if (sub != null && sub.commandSpec() == serve && sub.hasMatchedOption(PRINT_CONFIG)
          && !sub.isUsageHelpRequested() && !sub.isVersionHelpRequested()) {
        config.print(sub, System.out);
        return 0;
      }
      return new CommandLine.RunLast().execute(parsed);
    });
  }

  private void checkKeys() {
    if (file.isEmpty()) {
      return;
    }
    for (Setting s : file.get().settings().values()) {
      if (!options.containsKey(s.key())) {
        throw new InvalidInputException(file.get().where(s) + ": unknown key '" + s.key() + "'; the keys are the flags"
            + " of cairn serve without dashes: " + String.join(", ", options.keySet()));
      }
    }
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec o) || !options.containsKey(key(o)) || setEnv(o).isPresent()) {
      return null; // null: picocli uses the option's own default, which reads the environment
    }
    return file.flatMap(f -> f.value(key(o))).orElse(null);
  }

  /** The environment variable that sets {@code o}, if one is set. */
  private Optional<String> setEnv(OptionSpec o) {
    return envNames.getOrDefault(o, List.of()).stream().filter(n -> env.get(n) != null).findFirst();
  }

  /** {@code FILE line N} when {@code o}'s value comes from the file. */
  private Optional<String> fileLine(OptionSpec o) {
    if (typed(o) || setEnv(o).isPresent() || file.isEmpty()) {
      return Optional.empty();
    }
    return Optional.ofNullable(file.get().settings().get(key(o))).map(s -> file.get().where(s));
  }

  /** Whether {@code o} is on the command line (looked up in the arguments: parsing may have failed). */
  private boolean typed(OptionSpec o) {
    for (String a : serveArgs) {
      if (a.equals("--")) {
        return false;
      }
      for (String n : o.names()) {
        if (a.equals(n) || a.startsWith(n + "=") || (n.length() == 2 && !n.startsWith("--") && a.startsWith(n))) {
          return true;
        }
      }
    }
    return false;
  }

  /** Adds "(set in FILE line N)" to an input error that names a flag whose value came from the file. */
  private Exception annotate(Exception e) {
    if (!(e instanceof InvalidInputException ie)) {
      return e;
    }
    for (OptionSpec o : options.values()) {
      Optional<String> where = fileLine(o);
      if (where.isPresent() && Pattern.compile(Pattern.quote(o.longestName()) + "(?![\\w-])").matcher(e.getMessage()).find()) {
        return new InvalidInputException(ie.code(), e.getMessage() + " (set in " + where.get() + ")");
      }
    }
    return e;
  }

  /** Where {@code o}'s effective value came from, after a successful parse. */
  String origin(ParseResult parsed, OptionSpec o) {
    if (parsed.hasMatchedOption(o)) {
      return "flag";
    }
    Optional<String> e = setEnv(o);
    if (e.isPresent()) {
      return "env " + e.get();
    }
    return fileLine(o).map(w -> "file " + w).orElse("default");
  }

  /** The effective settings as a cairn.conf, each line commented with its origin. */
  void print(ParseResult parsed, PrintStream out) {
    out.println("# cairn serve: effective settings (precedence: flag > env > file > default)");
    out.println("# configuration file: " + file.map(f -> f.path().toString()).orElse("none (" + ConfigFile.SYSTEM
        + " does not exist)"));
    int width = 0;
    List<String[]> rows = new ArrayList<>();
    for (OptionSpec o : options.values()) {
      Object v = o.getValue();
      String setting = v == null ? "# " + key(o) + " =" : key(o) + " = " + toml(v);
      rows.add(new String[] {setting, origin(parsed, o)});
      width = Math.max(width, setting.length());
    }
    for (String[] r : rows) {
      out.println(String.format("%-" + width + "s  # %s", r[0], r[1]));
    }
    out.flush();
  }

  private static String toml(Object v) {
    if (v instanceof Number || v instanceof Boolean) {
      return v.toString();
    }
    String s = v.toString();
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
