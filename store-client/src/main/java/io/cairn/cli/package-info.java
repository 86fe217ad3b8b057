/**
 * The {@code cairn} command line: the entry point, the {@link io.cairn.cli.CommandProvider} SPI
 * through which modules add commands, and shared output helpers.
 */
package io.cairn.cli;
