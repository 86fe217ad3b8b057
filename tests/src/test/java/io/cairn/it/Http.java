package io.cairn.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Small java.net.http helpers for the end-to-end tests. */
final class Http {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

  private Http() {}

  /** A request that carries the admin token of the test server at {@code uri}, if it is one. */
  static HttpRequest.Builder req(URI uri) {
    HttpRequest.Builder b = anonymous(uri);
    ServerProcess.tokenForPort(uri.getPort()).ifPresent(t -> b.header("Authorization", "Bearer " + t));
    return b;
  }

  /** A request without credentials. */
  static HttpRequest.Builder anonymous(URI uri) {
    return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60));
  }

  /** A request with {@code token} as its bearer token. */
  static HttpRequest.Builder as(URI uri, String token) {
    return anonymous(uri).header("Authorization", "Bearer " + token);
  }

  static HttpResponse<byte[]> send(HttpRequest r) throws IOException, InterruptedException {
    return CLIENT.send(r, HttpResponse.BodyHandlers.ofByteArray());
  }

  static HttpResponse<byte[]> get(URI uri) throws IOException, InterruptedException {
    return send(req(uri).GET().build());
  }

  static HttpResponse<byte[]> postJson(URI uri, String json) throws IOException, InterruptedException {
    return send(req(uri).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build());
  }

  static HttpResponse<byte[]> post(URI uri, String type, byte[] body) throws IOException, InterruptedException {
    return send(req(uri).header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
  }

  static HttpResponse<byte[]> put(URI uri, String type, byte[] body) throws IOException, InterruptedException {
    return send(req(uri).header("Content-Type", type).PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build());
  }

  static JsonNode json(HttpResponse<byte[]> r) throws IOException {
    return JSON.readTree(r.body());
  }

  /** The server's /v1/stats. */
  static JsonNode stats(ServerProcess s) throws IOException, InterruptedException {
    HttpResponse<byte[]> r = get(s.uri("/v1/stats"));
    if (r.statusCode() != 200) {
      throw new AssertionError("stats: " + r.statusCode() + " " + new String(r.body()));
    }
    return json(r);
  }

  /** Runs a command, returning exit code and combined output. */
  static Cli.Result exec(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", cmd) + " did not finish");
    }
    return new Cli.Result(p.exitValue(), out, "");
  }
}
