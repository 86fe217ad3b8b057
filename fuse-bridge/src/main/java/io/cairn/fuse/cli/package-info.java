/** The {@code cairn mount} command, registered with the {@code cairn} CLI through {@link io.cairn.cli.CommandProvider}. */
package io.cairn.fuse.cli;
