package io.cairn.client.cli;

import io.cairn.cli.CommandProvider;
import java.util.List;

/** Registers the host commands with {@code cairn} (META-INF/services). */
public final class HostCommands implements CommandProvider {
  @Override
  public List<Object> commands() {
    return List.of(new PushCommand(), new PullCommand(), new LsCommand(), new TagCommand(), new UntagCommand(),
        new InfoCommand(), new OverlayCommand(), new RmiCommand(), new KeyCommand(), new SignCommand(),
        new ProfileCommand(), new HostCommand(), new DeployCommand(), new UndeployCommand(),
        new UndeployCommand.Deployments());
  }
}
