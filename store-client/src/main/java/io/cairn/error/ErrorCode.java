package io.cairn.error;

/**
 * Stable error codes shared by the server (which maps them to HTTP statuses and JSON bodies) and
 * the client (which maps them back to exceptions). Codes never change meaning once published.
 */
public enum ErrorCode {
  BLOCK_INVALID(400),
  BLOCK_UNKNOWN(404),
  BLOCK_CORRUPT(500),
  PAGE_UNKNOWN(404),
  IMAGE_UNKNOWN(404),
  IMAGE_INCOMPLETE(409),
  NAME_INVALID(400),
  DIGEST_INVALID(400),
  INPUT_INVALID(400),
  RANGE_NOT_SATISFIABLE(416),
  TOO_LARGE(413),
  CONFLICT(409),
  STORE_LOCKED(503),
  STORE_FORMAT(500),
  UNAUTHORIZED(401),
  DENIED(403),
  NOT_FOUND(404),
  METHOD_NOT_ALLOWED(405),
  UNSUPPORTED_MEDIA_TYPE(415),
  UNAVAILABLE(503),
  INTERNAL(500),
  /** A malformed hex id or digest (wrong length, upper case, non-hex): rejected at the edge. */
  ID_INVALID(400),
  /** No overlay of that name for this caller (another user's overlay is reported the same way). */
  OVERLAY_UNKNOWN(404),
  /** The owner already has as many overlays as the server allows one user ({@code --max-overlays}). */
  OVERLAY_LIMIT(409),
  /** A write past an overlay's end, or a shrink without force. */
  OUT_OF_BOUNDS(416),
  /** The write would take the owner past their quota of unique overlay bytes. */
  QUOTA_EXCEEDED(507),
  /**
   * A signature that does not verify for the digest and tag it claims (an upload the server
   * refuses, or a trusted key's signature a host finds broken).
   */
  SIGNATURE_INVALID(400),
  /**
   * A host with a trust set found no valid signature by a trusted key for what it was asked to
   * pull. Raised by the client; the server never sends it.
   */
  UNTRUSTED(403),
  /** The caller has too many requests in flight (per user, or per address without a token); retry later. */
  TOO_MANY_REQUESTS(429),
  /** The request body arrived too slowly (below the server's minimum rate) or stalled; nothing was stored. */
  REQUEST_TIMEOUT(408),
  /** No VM profile of that name or digest (docs/deploy.md). */
  PROFILE_UNKNOWN(404),
  /** No registered VM host of that name. */
  HOST_UNKNOWN(404),
  /** No live deployment or VM of that id or name for this caller. */
  DEPLOYMENT_UNKNOWN(404),
  /** A deploy needs more addresses (IP, MAC) or names than are free; nothing was allocated. */
  POOL_EXHAUSTED(409),
  /** No set of live hosts has room for the VMs of a deploy; nothing was allocated. */
  NO_CAPACITY(409),
  /**
   * The store's disk has less free space than the server keeps in reserve (or is full), or the
   * store was opened read-only because of it: nothing was written. Retry after freeing space.
   */
  STORAGE_FULL(507),
  /** The operation exists only for the embedded store so far (e.g. garbage collection on a bucket store). */
  NOT_SUPPORTED(501),
  /**
   * The server's object store (the bucket of {@code --store s3://…}) did not answer within the
   * server's retries: nothing was changed. Sent with {@code Retry-After}; the request may be sent again.
   */
  STORE_UNAVAILABLE(503);

  private final int httpStatus;

  ErrorCode(int httpStatus) {
    this.httpStatus = httpStatus;
  }

  public int httpStatus() {
    return httpStatus;
  }
}
