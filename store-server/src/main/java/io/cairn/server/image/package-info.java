/**
 * Images: importing a disk into the store, exporting it back, resolving references and accounting
 * for space. Works on the store's interfaces only.
 */
package io.cairn.server.image;
