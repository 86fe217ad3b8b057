package io.cairn.server.cli;

import io.cairn.cli.CommandProvider;
import java.util.List;

/** The commands that work on a local store directory. */
public final class StoreCommands implements CommandProvider {
  @Override
  public List<Object> commands() {
    return List.of(new ImportCommand(), new ExportCommand(), new ImagesCommand(), new StatsCommand(),
        new VerifyCommand(), new ServeCommand(), new UserCommand(), new GcCommand(), new RepairCommand(),
        new MigrateCommand());
  }
}
