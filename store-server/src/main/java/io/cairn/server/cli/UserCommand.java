package io.cairn.server.cli;

import io.cairn.cli.Output;
import io.cairn.id.UserName;
import io.cairn.server.auth.Role;
import io.cairn.server.auth.UserRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cairn user add|list|token|revoke}: manage users in the data directory. Works whether or not
 * a server has the store open (users live in {@code users.json}, not in RocksDB); a running server
 * sees changes on its next request.
 */
@Command(name = "user", description = "Manage users and their API tokens (server running or not).",
    mixinStandardHelpOptions = true,
    subcommands = {UserCommand.Add.class, UserCommand.ListUsers.class, UserCommand.Token.class, UserCommand.Revoke.class,
        UserCommand.Quota.class})
final class UserCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("cairn user: say what to do: add, list, token, revoke or quota (cairn user --help)");
    return 2;
  }

  private static void printToken(UserName name, String token, boolean json) {
    if (json) {
      Output.json(System.out, Map.of("user", name.value(), "token", token));
      return;
    }
    System.out.println(token);
    System.err.println("cairn: this is " + name + "'s token; it is shown only now. Hand it over safely; the"
        + " user sets CAIRN_TOKEN or passes --token.");
  }

  @Command(name = "add", description = "Create a user and print its token (once).", mixinStandardHelpOptions = true)
  static final class Add implements Callable<Integer> {
    @Mixin StoreOptions store;

    @Parameters(index = "0", paramLabel = "NAME", description = "User name, e.g. alice.")
    String name;

    @Option(names = "--role", paramLabel = "ROLE", defaultValue = "user",
        description = "user (own overlays, read templates), publisher (also push), admin (everything)."
            + " Default: ${DEFAULT-VALUE}.")
    String role;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    public Integer call() {
      UserName n = UserName.of(name);
      String token = store.users().add(n, Role.parse(role));
      printToken(n, token, json);
      return 0;
    }
  }

  @Command(name = "list", description = "List users and their roles.", mixinStandardHelpOptions = true)
  static final class ListUsers implements Callable<Integer> {
    @Mixin StoreOptions store;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    public Integer call() {
      List<UserRegistry.UserInfo> users = store.users().list();
      if (json) {
        Output.json(System.out, users.stream().map(u -> {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("name", u.name().value());
          m.put("role", u.role().label());
          m.put("hasToken", u.hasToken());
          m.put("created", u.created().toString());
          m.put("quotaBytes", u.quotaBytes().isPresent() ? u.quotaBytes().getAsLong() : null);
          return m;
        }).toList());
        return 0;
      }
      if (users.isEmpty()) {
        System.out.println("no users yet; 'cairn serve' creates user admin on its first start");
      }
      for (UserRegistry.UserInfo u : users) {
        System.out.printf("%-20s %-10s %-8s %s%n", u.name(), u.role().label(), u.hasToken() ? "active" : "revoked",
            u.quotaBytes().isPresent() ? "quota " + Output.bytes(u.quotaBytes().getAsLong()) : "");
      }
      return 0;
    }
  }

  @Command(name = "token", description = "Give a user a new token (the old one stops working).",
      mixinStandardHelpOptions = true)
  static final class Token implements Callable<Integer> {
    @Mixin StoreOptions store;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    public Integer call() {
      UserName n = UserName.of(name);
      printToken(n, store.users().newToken(n), json);
      return 0;
    }
  }

  @Command(name = "revoke", description = "Revoke a user's token; 'user token' issues a new one.",
      mixinStandardHelpOptions = true)
  static final class Revoke implements Callable<Integer> {
    @Mixin StoreOptions store;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
      UserName n = UserName.of(name);
      store.users().revoke(n);
      System.out.println("revoked " + n + "'s token; requests with it now get 401");
      return 0;
    }
  }

  @Command(name = "quota", description = "Limit the data a user's overlays may hold (e.g. 50G), or 'none'.",
      mixinStandardHelpOptions = true)
  static final class Quota implements Callable<Integer> {
    @Mixin StoreOptions store;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "SIZE|none", description = "Bytes, with K/M/G/T suffixes (powers of 1024).")
    String size;

    @Override
    public Integer call() {
      UserName n = UserName.of(name);
      java.util.OptionalLong q = size.equalsIgnoreCase("none") ? java.util.OptionalLong.empty()
          : java.util.OptionalLong.of(io.cairn.cli.Sizes.parse(size));
      store.users().setQuota(n, q);
      System.out.println(q.isPresent() ? "quota of " + n + ": " + Output.bytes(q.getAsLong()) + " of overlay data"
          : n + " has no quota");
      return 0;
    }
  }
}
