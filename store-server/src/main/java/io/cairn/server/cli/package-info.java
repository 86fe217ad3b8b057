/** Store commands of the {@code cairn} CLI: import, export, images, stats, verify (and serve). */
package io.cairn.server.cli;
