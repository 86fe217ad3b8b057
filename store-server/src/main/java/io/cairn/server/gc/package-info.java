/**
 * Garbage collection: mark every page and block that a stored image root or an overlay profile
 * names, then sweep what is unmarked and was not touched within the grace window, then compact so
 * the space returns to the file system. Image roots themselves are deleted only explicitly
 * ({@link io.cairn.server.gc.ImageDeleter}). See docs/design.md, "Garbage collection".
 */
package io.cairn.server.gc;
