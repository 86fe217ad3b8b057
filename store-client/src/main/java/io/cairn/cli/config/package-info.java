/**
 * The one configuration file of {@code cairn serve}: {@code /etc/cairn/cairn.conf}, or the file named
 * by {@code --config FILE} (env {@code CAIRN_CONFIG}), in TOML.
 *
 * <p>Nouns: a <em>setting</em> is one key of the file, named like a {@code serve} flag without its
 * dashes ({@code port}, {@code max-body}); its <em>origin</em> is where the effective value came from
 * (a flag, an environment variable, a line of the file, the built-in default), in that order of
 * precedence. The file feeds picocli as a default-value provider, so every flag of {@code serve},
 * including ones added later, is a key without any code here knowing it.
 */
package io.cairn.cli.config;
