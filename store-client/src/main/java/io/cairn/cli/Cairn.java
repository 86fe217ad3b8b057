package io.cairn.cli;

import io.cairn.error.CairnException;
import io.cairn.id.InvalidIdException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
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
    CommandLine cl = new CommandLine(new Cairn());
    for (CommandProvider p : ServiceLoader.load(CommandProvider.class)) {
      for (Object c : p.commands()) {
        cl.addSubcommand(c);
      }
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
    System.exit(commandLine().execute(args));
  }
}
