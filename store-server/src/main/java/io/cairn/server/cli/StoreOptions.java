package io.cairn.server.cli;

import io.cairn.block.BlockSize;
import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import io.cairn.error.StoreException;
import io.cairn.server.objects.RetryingObjectStore;
import io.cairn.server.objects.S3ObjectStore;
import io.cairn.server.store.Store;
import io.cairn.server.store.StoreMemory;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * {@code --data DIR}: where the store lives; or, with {@code --store s3://BUCKET[/PREFIX]}, the
 * bucket that holds everything durable, {@code --data} then holding caches only. Shared by every
 * command that opens a store.
 */
public final class StoreOptions {
  @Option(names = "--data", paramLabel = "DIR", defaultValue = "${env:CAIRN_DATA:-./cairn-data}",
      description = "Data directory of the store; with --store, of local caches only (env CAIRN_DATA; default: ${DEFAULT-VALUE}).")
  Path data;

  @Option(names = "--min-free", paramLabel = "SIZE", defaultValue = "${env:CAIRN_MIN_FREE:-256M}",
      description = "Refuse writes (507 STORAGE_FULL) while the store's disk has less free space than this"
          + " (env CAIRN_MIN_FREE; default: ${DEFAULT-VALUE}).")
  String minFree;

  @Option(names = "--layout", paramLabel = "rows|packs", defaultValue = "${env:CAIRN_LAYOUT:-rows}",
      description = "Where a new data directory keeps block bytes: rows of RocksDB, or immutable pack files under"
          + " DATA/packs (docs/design.md, Pack layout). An existing store keeps its layout; cairn migrate converts"
          + " (env CAIRN_LAYOUT; default: ${DEFAULT-VALUE}).")
  String layout;

  @Option(names = "--store", paramLabel = "s3://BUCKET[/PREFIX]", defaultValue = "${env:CAIRN_STORE}",
      description = "Keep the store in an S3 bucket (Ceph RGW, MinIO, AWS S3) instead of --data; several servers"
          + " may serve one bucket at once (env CAIRN_STORE). Credentials: AWS_ACCESS_KEY_ID and"
          + " AWS_SECRET_ACCESS_KEY, else --s3-credentials.")
  String bucketUrl;

  @Option(names = "--s3-endpoint", paramLabel = "URL", defaultValue = "${env:CAIRN_S3_ENDPOINT}",
      description = "The S3 endpoint, e.g. http://127.0.0.1:7480 (env CAIRN_S3_ENDPOINT; default: AWS).")
  URI s3Endpoint;

  @Option(names = "--s3-region", paramLabel = "REGION", defaultValue = "${env:CAIRN_S3_REGION:-us-east-1}",
      description = "Signing region (default: ${DEFAULT-VALUE}).")
  String s3Region;

  @Option(names = "--s3-path-style", defaultValue = "${env:CAIRN_S3_PATH_STYLE:-true}", arity = "0..1",
      description = "Path-style URLs (endpoint/bucket/key), as Ceph and MinIO need without DNS (default: ${DEFAULT-VALUE}).")
  boolean s3PathStyle;

  @Option(names = "--s3-credentials", paramLabel = "FILE",
      defaultValue = "${env:AWS_SHARED_CREDENTIALS_FILE:-${sys:user.home}/.aws/credentials}",
      description = "AWS credentials file used when AWS_ACCESS_KEY_ID is not set; profile from AWS_PROFILE"
          + " (default: ${DEFAULT-VALUE}).")
  Path s3Credentials;

  public Path dataDir() {
    return data;
  }

  /** Where the store is, for messages: the data directory or the bucket URL. */
  public String describe() {
    return bucketUrl == null ? data.toString() : bucketUrl;
  }

  /** The flags that name this store again, for hints: {@code --data DIR} or the bucket's flags. */
  public String locationFlags() {
    return bucketUrl == null ? "--data " + data
        : "--store " + bucketUrl + (s3Endpoint == null ? "" : " --s3-endpoint " + s3Endpoint);
  }

  /**
   * Opens (or creates with the default block size) the store. When its disk is too full to open it
   * for writing, opens it read-only instead, so reads, verify and stats still work, and says so.
   */
  public Store open() {
    return open(StoreMemory.DEFAULT);
  }

  /** As {@link #open()}, with RocksDB's memory sized for a long-running server. */
  public Store open(StoreMemory memory) {
    if (bucketUrl != null) {
      return openBucket(Optional.empty());
    }
    try {
      return Store.open(data, Optional.empty(), options(memory));
    } catch (StoreException e) {
      if (e.code() != ErrorCode.STORAGE_FULL) {
        throw e;
      }
      Store s = Store.open(data, Optional.empty(), new Store.OpenOptions(0, true, memory));
      System.err.println("cairn: the disk of store " + data + " is full, so it was opened read-only: reads, verify"
          + " and stats work; writes are refused (507 STORAGE_FULL) until it is reopened with free space");
      return s;
    }
  }

  /** Opens or creates the store for writing (no read-only fallback): for commands that add data. */
  public Store open(Optional<BlockSize> blockSize) {
    return bucketUrl == null ? Store.open(data, blockSize, options(StoreMemory.DEFAULT)) : openBucket(blockSize);
  }

  /** How {@link #open(Optional)} opens the store: for writing, with --min-free and --layout. */
  public Store.OpenOptions writeOptions() {
    return options(StoreMemory.DEFAULT);
  }

  private Store.OpenOptions options(StoreMemory memory) {
    return new Store.OpenOptions(io.cairn.cli.Sizes.parse(minFree), false, memory, Store.Layout.parse(layout));
  }

  /** The users: in the bucket with --store (no store is opened for it), else in --data. */
  public io.cairn.server.auth.UserRegistry users() {
    return bucketUrl == null ? io.cairn.server.auth.UserRegistry.open(data)
        : io.cairn.server.auth.UserRegistry.open(bucket());
  }

  private Store openBucket(Optional<BlockSize> blockSize) {
    return Store.openBucket(bucket(), data, blockSize);
  }

  private io.cairn.server.objects.ObjectStore bucket() {
    URI u;
    try {
      u = URI.create(bucketUrl);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException("--store must be s3://BUCKET[/PREFIX], got " + bucketUrl);
    }
    if (!"s3".equals(u.getScheme()) || u.getHost() == null || u.getHost().isEmpty()) {
      throw new InvalidInputException("--store must be s3://BUCKET[/PREFIX], got " + bucketUrl);
    }
    String prefix = u.getPath() == null ? "" : u.getPath().replaceAll("^/+", "");
    S3ObjectStore.Builder b = S3ObjectStore.builder().bucket(u.getHost()).prefix(prefix).region(s3Region)
        .pathStyle(s3PathStyle);
    if (s3Credentials != null && java.nio.file.Files.isRegularFile(s3Credentials)) {
      b.credentialsFromEnvironmentOrFile(s3Credentials, Optional.ofNullable(System.getenv("AWS_PROFILE")).orElse("default"));
    } // else the builder's default: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
    if (s3Endpoint != null) {
      b.endpoint(s3Endpoint);
    }
    return RetryingObjectStore.withDefaults(b.build());
  }
}
