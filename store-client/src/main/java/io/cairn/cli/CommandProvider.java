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
}
