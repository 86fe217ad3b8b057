/**
 * Typed errors. Every failure a person or remote caller can see is a {@link
 * io.cairn.error.CairnException} with a stable {@link io.cairn.error.ErrorCode}; the server maps
 * codes to HTTP statuses in one place and the client maps them back.
 */
package io.cairn.error;
