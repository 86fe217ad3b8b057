package io.cairn.fuse.cli;

import io.cairn.cli.CommandProvider;
import java.util.List;

/** Registers {@code cairn mount} (META-INF/services). */
public final class FuseCommands implements CommandProvider {
  @Override
  public List<Object> commands() {
    return List.of(new MountCommand());
  }

  @Override
  public void prepare(String command) {
    if ("mount".equals(command)) {
      io.cairn.fuse.NativeWarmUp.start();
    }
  }
}
