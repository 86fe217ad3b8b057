/**
 * The host's local block cache, shared by every pull on the host (and later the FUSE bridge).
 * Nouns: a <em>pack</em> is an append-only file of records {@code type | id | length | bytes}
 * written by exactly one process; its <em>idx</em> sidecar lists the records so other processes
 * need not scan it. Processes never write to each other's packs, so no locks are needed; eviction
 * deletes whole least-recently-used packs. Every record is checked when read, against the CRC32C
 * its writer listed for the bytes it had verified (or by its SHA-256 when none is listed): a torn
 * or damaged record is a miss, never bad data.
 */
package io.cairn.client.cache;
