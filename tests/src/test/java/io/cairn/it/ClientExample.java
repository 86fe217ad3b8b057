package io.cairn.it;

import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.client.PublishResult;
import io.cairn.client.PullOptions;
import io.cairn.client.PullResult;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * The example in docs/client.md, verbatim between the markers; {@link ClientDocTest} runs it and
 * checks the doc still shows exactly this code.
 */
final class ClientExample {
  private ClientExample() {}

  // BEGIN client-example
  /** Publishes v1 and v2 of an image, pulls v1, then pulls v2 using v1 as a seed. */
  static List<Object> run(URI server, String token, Path v1, Path v2, Path hostDir) throws IOException {
    try (CairnClient client = CairnClient.builder()
        .endpoint(server)                       // e.g. http://127.0.0.1:7070
        .token(token)                           // a publisher's token (cairn user add NAME --role publisher)
        .cacheDir(hostDir.resolve("cache"))     // shared by every pull on this host
        .parallelism(4)
        .build()) {
      // Publish: only the blocks and index pages the server lacks are sent.
      PublishResult first = client.publish(v1, Tag.parse("web/base:v1"), ProgressListener.NONE);
      PublishResult second = client.publish(v2, Tag.parse("web/base:v2"), ProgressListener.NONE);

      // Pull v1 into a sparse file; the file appears under its name only when complete.
      PullResult pulled = client.pull(ImageRef.parse("web/base:v1"), hostDir.resolve("v1.raw"),
          PullOptions.defaults(), (done, total) -> { });

      // Delta pull: blocks come from the cache, then from the seed file, and only then from the server.
      PullResult delta = client.pull(ImageRef.of(second.digest()), hostDir.resolve("v2.raw"),
          PullOptions.builder().seed(hostDir.resolve("v1.raw")).build(), ProgressListener.NONE);
      System.out.printf("v2: %d bytes fetched, %d from cache, %d from seeds, %d zero%n",
          delta.bytesFetched(), delta.bytesFromCache(), delta.bytesFromSeeds(), delta.zeroBytes());
      return List.of(first, second, pulled, delta);
    }
  }
  // END client-example
}
