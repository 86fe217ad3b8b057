package io.cairn.server.objects;

import io.cairn.error.ErrorCode;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProviderChain;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.DefaultRetryStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * An {@link ObjectStore} on an S3 bucket (Ceph RGW, AWS S3, MinIO, Garage) through the AWS SDK
 * for Java v2. One request per call: the SDK's own retries are off and every failure is mapped to
 * a typed exception here, so that {@link RetryingObjectStore} alone decides what is retried (one
 * policy for every backend, testable against {@link FaultyObjectStore}). Thread-safe.
 *
 * <p>The SDK's default request checksums are off ({@code WHEN_REQUIRED}): they send trailing
 * checksums in {@code aws-chunked} bodies, which older gateways (Ceph 16.2) reject. Integrity is
 * Cairn's own: every block is re-hashed on read.
 */
public final class S3ObjectStore implements ObjectStore, AutoCloseable {
  private final S3Client s3;
  private final String bucket;
  private final String prefix;

  private S3ObjectStore(S3Client s3, String bucket, String prefix) {
    this.s3 = s3;
    this.bucket = bucket;
    this.prefix = prefix;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Settings of an S3 store; defaults in one place. */
  public static final class Builder {
    private URI endpoint;
    private String region = "us-east-1";
    private boolean pathStyle = true;
    private String bucket;
    private String prefix = "";
    private AwsCredentialsProvider credentials;
    private Duration connectTimeout = Duration.ofSeconds(5);
    private Duration socketTimeout = Duration.ofSeconds(30);

    private Builder() {}

    /** The gateway, e.g. {@code http://127.0.0.1:7480}; empty for AWS's own endpoints. */
    public Builder endpoint(URI endpoint) {
      this.endpoint = endpoint;
      return this;
    }

    /** Signing region; any value for Ceph. Default {@code us-east-1}. */
    public Builder region(String region) {
      this.region = region;
      return this;
    }

    /** Path-style URLs ({@code host/bucket/key}), default true: Ceph and MinIO need no DNS then. */
    public Builder pathStyle(boolean pathStyle) {
      this.pathStyle = pathStyle;
      return this;
    }

    public Builder bucket(String bucket) {
      this.bucket = bucket;
      return this;
    }

    /** Prepended to every key, so several stores can share a bucket; "" or ends with '/'. */
    public Builder prefix(String prefix) {
      this.prefix = prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/";
      return this;
    }

    public Builder credentials(String accessKey, String secretKey) {
      this.credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey));
      return this;
    }

    /**
     * Credentials from {@code AWS_ACCESS_KEY_ID}/{@code AWS_SECRET_ACCESS_KEY}, else from the
     * {@code [profile]} of an AWS credentials file. Nothing else (no instance metadata probes,
     * which take seconds to time out off AWS).
     */
    public Builder credentialsFromEnvironmentOrFile(Path credentialsFile, String profile) {
      ProfileFile file = ProfileFile.builder().content(credentialsFile).type(ProfileFile.Type.CREDENTIALS).build();
      this.credentials = AwsCredentialsProviderChain.of(
          EnvironmentVariableCredentialsProvider.create(),
          ProfileCredentialsProvider.builder().profileFile(file).profileName(profile).build());
      return this;
    }

    public Builder timeouts(Duration connect, Duration socket) {
      this.connectTimeout = connect;
      this.socketTimeout = socket;
      return this;
    }

    public S3ObjectStore build() {
      Objects.requireNonNull(bucket, "bucket");
      var b = S3Client.builder()
          .region(Region.of(region))
          .forcePathStyle(pathStyle)
          .credentialsProvider(credentials != null ? credentials : EnvironmentVariableCredentialsProvider.create())
          .httpClient(UrlConnectionHttpClient.builder()
              .connectionTimeout(connectTimeout).socketTimeout(socketTimeout).build())
          .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
          .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
          .overrideConfiguration(o -> o.retryStrategy(DefaultRetryStrategy.doNotRetry()));
      if (endpoint != null) {
        b.endpointOverride(endpoint);
      }
      return new S3ObjectStore(b.build(), bucket, prefix);
    }
  }

  /** Creates the bucket unless it exists (for tests and first-time set-up). */
  public void createBucketIfMissing() {
    try {
      s3.headBucket(r -> r.bucket(bucket));
    } catch (S3Exception e) {
      if (e.statusCode() != 404) {
        throw map(bucket, e);
      }
      call(bucket, () -> s3.createBucket(r -> r.bucket(bucket)));
    } catch (SdkException e) {
      throw map(bucket, e);
    }
  }

  @Override
  public PutResult putIfAbsent(String key, byte[] data, int off, int len) {
    try {
      s3.putObject(put(key, len).ifNoneMatch("*").build(), body(data, off, len));
      return PutResult.CREATED;
    } catch (S3Exception e) {
      if (e.statusCode() == 412) {
        return PutResult.EXISTS;
      }
      // AWS answers 409 ConditionalRequestConflict while another conditional write of the key is
      // in flight; its outcome is unknown, so it is a retry, not a verdict.
      if (e.statusCode() == 409) {
        throw new ObjectUnavailableException(key, "conditional write conflict in flight: " + e.getMessage(), e);
      }
      throw map(key, e);
    } catch (SdkException e) {
      throw map(key, e);
    }
  }

  @Override
  public void put(String key, byte[] data, int off, int len) {
    call(key, () -> s3.putObject(put(key, len).build(), body(data, off, len)));
  }

  private PutObjectRequest.Builder put(String key, int len) {
    return PutObjectRequest.builder().bucket(bucket).key(prefix + key).contentLength((long) len)
        .contentType("application/octet-stream");
  }

  private static RequestBody body(byte[] data, int off, int len) {
    // A provider, not fromBytes: the SDK may read the body twice (signing, then sending) and must
    // not copy a pack of tens of MiB to do it.
    return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(data, off, len), len,
        "application/octet-stream");
  }

  @Override
  public InputStream get(String key) {
    return call(key, () -> s3.getObject(GetObjectRequest.builder().bucket(bucket).key(prefix + key).build(),
        ResponseTransformer.toInputStream()));
  }

  @Override
  public RangeStream get(String key, ObjectRange range) {
    ResponseInputStream<GetObjectResponse> in = call(key, () -> s3.getObject(
        GetObjectRequest.builder().bucket(bucket).key(prefix + key).range(range.httpHeader()).build(),
        ResponseTransformer.toInputStream()));
    GetObjectResponse r = in.response();
    String cr = r.contentRange();
    if (cr == null) {
      // S3 answers every satisfiable range with 206 and Content-Range, even one covering the whole
      // object; a gateway that ignores ranges would stream whole packs for single blocks.
      in.abort();
      throw new ObjectStoreException(ErrorCode.INTERNAL, key, "the store ignored range " + range
          + " (no Content-Range); it does not speak S3 ranged GETs", null);
    }
    // "bytes FIRST-LAST/SIZE"
    int sp = cr.indexOf(' ');
    int dash = cr.indexOf('-', sp);
    int slash = cr.indexOf('/', dash);
    long first = Long.parseLong(cr.substring(sp + 1, dash));
    long last = Long.parseLong(cr.substring(dash + 1, slash));
    long size = Long.parseLong(cr.substring(slash + 1));
    return new RangeStream(in, first, last - first + 1, size);
  }

  @Override
  public Optional<ObjectInfo> head(String key) {
    try {
      HeadObjectResponse r = s3.headObject(h -> h.bucket(bucket).key(prefix + key));
      return Optional.of(new ObjectInfo(key, r.contentLength(), unquote(r.eTag())));
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return Optional.empty();
      }
      throw map(key, e);
    } catch (SdkException e) {
      throw map(key, e);
    }
  }

  @Override
  public ListPage list(String listPrefix, Optional<String> startAfter, int max) {
    ListObjectsV2Response r = call(prefix + listPrefix, () -> s3.listObjectsV2(l -> {
      l.bucket(bucket).prefix(prefix + listPrefix).maxKeys(max);
      startAfter.ifPresent(s -> l.startAfter(prefix + s));
    }));
    List<ObjectInfo> out = new ArrayList<>(r.contents().size());
    for (S3Object o : r.contents()) {
      out.add(new ObjectInfo(o.key().substring(prefix.length()), o.size(), unquote(o.eTag())));
    }
    return new ListPage(out, Boolean.TRUE.equals(r.isTruncated()));
  }

  @Override
  public void delete(String key) {
    call(key, () -> s3.deleteObject(d -> d.bucket(bucket).key(prefix + key)));
  }

  @Override
  public void close() {
    s3.close();
  }

  private static String unquote(String etag) {
    return etag != null && etag.length() >= 2 && etag.startsWith("\"") ? etag.substring(1, etag.length() - 1)
        : String.valueOf(etag);
  }

  private static <T> T call(String key, Supplier<T> request) {
    try {
      return request.get();
    } catch (SdkException e) {
      throw map(key, e);
    }
  }

  /** The one place S3 failures become Cairn's typed errors. */
  static ObjectStoreException map(String key, SdkException e) {
    if (e instanceof S3Exception s) {
      int status = s.statusCode();
      if (status == 404) {
        return new ObjectNotFoundException(key);
      }
      if (status == 412) {
        return new ObjectPreconditionFailedException(key, "the store answered 412: " + s.getMessage(), e);
      }
      if (status >= 500 || status == 429) {
        return new ObjectUnavailableException(key, "the store answered " + status + ": " + s.getMessage(), e);
      }
      ErrorCode code = switch (status) {
        case 401, 403 -> ErrorCode.DENIED;
        case 416 -> ErrorCode.RANGE_NOT_SATISFIABLE;
        default -> ErrorCode.INTERNAL;
      };
      return new ObjectStoreException(code, key, "the store answered " + status + ": " + s.getMessage(), e);
    }
    if (e instanceof SdkClientException) {
      // Refused or broken connections and timeouts: the store may be restarting.
      return new ObjectUnavailableException(key, "cannot reach the store: " + e.getMessage(), e);
    }
    return new ObjectStoreException(ErrorCode.INTERNAL, key, e.getMessage(), e);
  }
}
