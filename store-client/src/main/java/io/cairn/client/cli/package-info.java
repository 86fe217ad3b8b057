/**
 * The host commands of {@code cairn}: {@code push}, {@code pull}, {@code ls}, {@code tag},
 * {@code untag}, {@code info}. They talk to a server over HTTP through {@link
 * io.cairn.client.CairnClient}; the store commands ({@code import}, {@code images}, ...) work on a
 * local data directory instead and live in store-server.
 */
package io.cairn.client.cli;
