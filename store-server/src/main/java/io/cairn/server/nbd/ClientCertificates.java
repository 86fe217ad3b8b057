package io.cairn.server.nbd;

import io.cairn.error.InvalidInputException;
import io.cairn.id.UserName;
import io.cairn.server.auth.Principal;
import io.cairn.server.auth.UserRegistry;
import io.cairn.server.tls.ServerTls;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * NBD's credentials: X.509 client certificates. A certificate signed by the client CA
 * ({@code --nbd-client-ca}) whose subject CN is a Cairn user name authenticates as that user, as long
 * as the user exists and has not been revoked ({@code cairn user revoke} shuts NBD out too). The JDK
 * has no TLS-PSK, and certificates are what qemu's {@code tls-creds-x509} object presents.
 */
final class ClientCertificates {
  private final SSLContext context;
  private final boolean verifying;
  private final UserRegistry users;

  private ClientCertificates(SSLContext context, boolean verifying, UserRegistry users) {
    this.context = context;
    this.verifying = verifying;
    this.users = users;
  }

  /** The server identity of {@code tls}; clients verified against {@code clientCa} when given. */
  static ClientCertificates of(ServerTls tls, Optional<Path> clientCa, UserRegistry users) {
    try {
      TrustManager[] trust = null;
      if (clientCa.isPresent()) {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        int n = 0;
        try (InputStream in = Files.newInputStream(clientCa.get())) {
          for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
            ks.setCertificateEntry("ca-" + n++, c);
          }
        }
        if (n == 0) {
          throw new InvalidInputException(clientCa.get() + " holds no PEM certificate");
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ks);
        trust = tmf.getTrustManagers();
      }
      SSLContext c = SSLContext.getInstance("TLS");
      c.init(new KeyManager[] {tls.keyManager()}, trust, null);
      return new ClientCertificates(c, clientCa.isPresent(), users);
    } catch (IOException e) {
      throw new InvalidInputException("cannot read the NBD client CA: " + e);
    } catch (GeneralSecurityException e) {
      throw new InvalidInputException("cannot use the NBD client CA: " + e.getMessage());
    }
  }

  SSLContext context() {
    return context;
  }

  /** Whether handshakes ask for a client certificate (only when there is a CA to check it with). */
  boolean verifying() {
    return verifying;
  }

  /** Who the verified certificate of {@code session} names: a user, or a reason it names nobody. */
  Peer peer(SSLSession session) {
    if (!verifying) {
      return Peer.anonymous("the server takes no client certificates (no --nbd-client-ca)");
    }
    X509Certificate cert;
    try {
      cert = (X509Certificate) session.getPeerCertificates()[0];
    } catch (SSLPeerUnverifiedException none) {
      return Peer.anonymous("the client presented no certificate");
    }
    String cn = commonName(cert);
    if (cn == null) {
      return Peer.anonymous("the client certificate has no CN");
    }
    UserName name;
    try {
      name = UserName.of(cn);
    } catch (RuntimeException e) {
      return Peer.anonymous("the client certificate's CN '" + cn + "' is not a user name");
    }
    return users.find(name).filter(UserRegistry.UserInfo::hasToken)
        .map(u -> Peer.of(new Principal(u.name(), u.role())))
        .orElseGet(() -> Peer.anonymous("the client certificate's CN '" + cn + "' is no active Cairn user"));
  }

  private static String commonName(X509Certificate cert) {
    try {
      for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return rdn.getValue().toString();
        }
      }
    } catch (InvalidNameException e) {
      return null;
    }
    return null;
  }

  /** The authenticated user, or none with the reason why (shown to a client refused an overlay). */
  record Peer(Optional<Principal> principal, String why) {
    static Peer of(Principal p) {
      return new Peer(Optional.of(p), "");
    }

    static Peer anonymous(String why) {
      return new Peer(Optional.empty(), why);
    }
  }
}
