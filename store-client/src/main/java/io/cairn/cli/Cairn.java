package io.cairn.cli;

import io.cairn.error.CairnException;
import io.cairn.error.InvalidInputException;
import io.cairn.id.InvalidIdException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code cairn} command line: subcommands come from every {@link CommandProvider} on the class path. */
@Command(
    name = "cairn",
    mixinStandardHelpOptions = true,
    version = "cairn 0.1.0",
    description = "Content-addressed store for virtual-machine disk images.",
    synopsisSubcommandLabel = "COMMAND",
    commandListHeading = "%nCommands:%n",
    footer = {"", "Run 'cairn COMMAND --help' for a command's options."})
public final class Cairn implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static CommandLine commandLine() {
    return commandLine(null);
  }

  /**
   * The command line with only subcommand {@code only} when it names one, else with all of them.
   * Picocli builds each subcommand's model by reflection (about 1 s for all of them on a busy
   * 2-core machine); {@code cairn mount} is timed from start until the files appear.
   */
  public static CommandLine commandLine(String only) {
    List<CommandProvider> providers = new ArrayList<>();
    ServiceLoader.load(CommandProvider.class).forEach(providers::add);
    for (CommandProvider p : providers) {
      p.prepare(only);
    }
    CommandLine cl = new CommandLine(new Cairn());
    List<Object> all = new ArrayList<>();
    for (CommandProvider p : providers) {
      all.addAll(p.commands());
    }
    List<Object> named = all.stream().filter(c -> only != null && c.getClass().isAnnotationPresent(Command.class)
        && c.getClass().getAnnotation(Command.class).name().equals(only)).toList();
    for (Object c : named.isEmpty() ? all : named) {
      cl.addSubcommand(c);
    }
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      System.err.println("cairn: " + describe(e));
      if (System.getenv("CAIRN_DEBUG") != null) {
        e.printStackTrace();
      }
      return 1; // usage errors exit 2 (picocli); everything that failed while running exits 1
    });
    return cl;
  }

  /** One line that tells the person what went wrong and, where we can, what to do. */
  static String describe(Throwable e) {
    Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
    if (t instanceof CairnException || t instanceof InvalidIdException) {
      return t.getMessage();
    }
    if (t instanceof NoSuchFileException n) {
      return "no such file: " + n.getFile();
    }
    if (t instanceof AccessDeniedException a) {
      return "permission denied: " + a.getFile();
    }
    if (t instanceof IOException) {
      return "I/O error: " + t.getMessage();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage()
        + " (this is a bug in Cairn; rerun with CAIRN_DEBUG=1 and report the trace)";
  }

  public static void main(String[] args) {
    CommandLine cl = commandLine(args.length > 0 ? args[0] : null);
    try {
      io.cairn.cli.config.ServeConfig.install(cl, args, System.getenv()); // cairn.conf: defaults for serve's flags
    } catch (InvalidInputException e) {
      System.err.println("cairn: " + e.getMessage());
      System.exit(2);
    }
    System.exit(cl.execute(args));
  }
}
