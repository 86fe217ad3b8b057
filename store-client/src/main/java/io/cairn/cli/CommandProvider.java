package io.cairn.cli;

import java.util.List;

/**
 * Contributes subcommands to {@code cairn}. Each module (host commands here, store commands in
 * store-server, {@code mount} in fuse-bridge) registers one through {@link java.util.ServiceLoader},
 * so the launcher offers whatever modules are on its class path.
 */
public interface CommandProvider {
  /** Picocli command objects, annotated with {@code @Command}. */
  List<Object> commands();

  /**
   * Called before the command line is built, with the subcommand about to run ({@code null} when
   * there is none). A provider may start slow initialisation that its command will need on a daemon
   * thread here, so that it overlaps with building the command line; it must change nothing a
   * person could see, since the arguments are not checked yet.
   */
  default void prepare(String command) {}
}
