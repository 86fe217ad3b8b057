/**
 * The object-store seam and what is built on it. Nouns:
 *
 * <ul>
 *   <li><b>object</b>: an immutable byte string under a <b>key</b> (a '/'-separated string) in a
 *       bucket; written whole by one PUT, never modified in place.
 *   <li>{@link io.cairn.server.objects.ObjectStore}: put, create-only put, get (whole or a {@link
 *       io.cairn.server.objects.ObjectRange}), head, list by prefix, delete. {@link
 *       io.cairn.server.objects.S3ObjectStore} speaks S3 (Ceph RGW, AWS, MinIO); {@link
 *       io.cairn.server.objects.MemoryObjectStore} holds objects in memory with the same semantics.
 *   <li><b>create-only put</b>: {@code PUT} with {@code If-None-Match: *}; exactly one of many racing
 *       writers of one key gets {@link io.cairn.server.objects.PutResult#CREATED}. The only atomic
 *       primitive an S3 gateway is trusted with (Ceph RGW 16.2 does not honour {@code If-Match}).
 *   <li>{@link io.cairn.server.objects.CasRegister}: a mutable pointer (tag → digest, overlay →
 *       generation) made of numbered immutable <b>log entries</b>; moving it is a create-only put of
 *       the next number, so compare-and-swap needs nothing else. See docs/scale-out.md.
 *   <li>Decorators: {@link io.cairn.server.objects.RetryingObjectStore} (bounded backoff on {@link
 *       io.cairn.server.objects.ObjectUnavailableException}), {@link
 *       io.cairn.server.objects.CountingObjectStore} (requests by kind, for benchmarks), {@link
 *       io.cairn.server.objects.FaultyObjectStore} (fails or delays the Nth call, for tests).
 * </ul>
 *
 * Errors are typed: {@link io.cairn.server.objects.ObjectNotFoundException}, {@link
 * io.cairn.server.objects.ObjectUnavailableException} (5xx, connection trouble: worth a retry),
 * {@link io.cairn.server.objects.ObjectPreconditionFailedException} (412 outside create-only puts),
 * {@link io.cairn.server.objects.ObjectStoreException} for the rest (denied, bad range, no bucket).
 */
package io.cairn.server.objects;
