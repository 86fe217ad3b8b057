/**
 * Verification: re-hashes roots, pages and blocks and checks that every tag's chain is complete,
 * reporting each damaged item with the images that depend on it.
 */
package io.cairn.server.verify;
