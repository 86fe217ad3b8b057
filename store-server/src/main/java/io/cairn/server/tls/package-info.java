/**
 * TLS for {@code cairn serve}: the server's identity is a PEM certificate chain and its private key,
 * read from two files and read again when either file changes, so a renewed certificate is served
 * to new connections without a restart.
 *
 * <p>Nouns: an <em>identity</em> is one certificate chain with the key that matches its first
 * certificate; {@link io.cairn.server.tls.ServerTls} builds the {@link javax.net.ssl.SSLContext}
 * whose key manager always offers the newest identity.
 */
package io.cairn.server.tls;
