/**
 * Per-user copy-on-write overlays ("profiles"). An <em>overlay</em> is a base image version (pinned
 * by digest) plus a <em>profile</em>: block number → block id for exactly the blocks that differ
 * from the base. Creating one copies nothing; a write stores new blocks (deduplicated like any
 * other) and edits the profile in one atomic synced write; a <em>snapshot</em> turns the current
 * state into a new immutable image that reuses every unchanged index page of the base; untagged, it
 * is <em>private</em> to the owner (and charged to their quota) until a publisher tags it.
 * {@link io.cairn.server.overlay.OverlayLimits} bounds what one user may make.
 */
package io.cairn.server.overlay;
