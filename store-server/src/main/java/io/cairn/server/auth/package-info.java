/**
 * Who may do what. A <em>user</em> has a {@link io.cairn.server.auth.Role} and one API token; the
 * server keeps only the token's SHA-256 ({@link io.cairn.server.auth.UserRegistry}, in the data
 * directory's {@code users.json}, so {@code cairn user ...} works whether the server runs or not).
 * A request's caller is a {@link io.cairn.server.auth.Principal}; each route demands an
 * {@link io.cairn.server.auth.Access} level.
 */
package io.cairn.server.auth;
