package io.kubezookeeper.admin;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.data.Stat;

/**
 * The member's pre-stop hook (image/leave.sh): a member that a scale-down removes leaves the voting set before its
 * pod stops, so that every membership on the way down keeps its quorum, however many members go and whatever
 * stops next.
 *
 * <p>Usage: {@code MemberLeave HOST:PORT MYID STATEFULSET NAMESPACE REPLICAS_FILE SECONDS}; the super user's
 * password on stdin. The count is the live {@code replicas} of the ensemble ConfigMap ({@code STATEFULSET-ensemble},
 * the one setting that changes together with the StatefulSet's replicas), read from the API server with the pod's
 * projected ServiceAccount token: its mounted copy (REPLICAS_FILE) lags a change by up to a minute or two, and a pod
 * cannot tell a scale-down from a restart otherwise. {@code kubectl scale} alone leaves that count as it is, so it
 * stops pods without a change, as a node failure would. When the API server cannot be asked, the mounted count
 * decides, and the line says so. A member at or above the count removes itself (retried while another change runs,
 * for at most SECONDS); any other member, a ConfigMap that is gone (an uninstall) and replicas 0 stop without a
 * change. Exit codes: 0 nothing to do or left, 2 usage, 6 could not leave. One
 * line on stdout says what happened.
 */
public final class MemberLeave {
  // the pod's projected token and the cluster's CA (another directory only for the tool's own tests)
  static final Path ACCOUNT = Path.of(System.getProperty("kubezookeeper.serviceAccountDir",
      "/var/run/secrets/kubernetes.io/serviceaccount"));
  // the `replicas` key of the ConfigMap's data (an escaped copy in an annotation does not match: its quotes are \")
  static final Pattern DATA_REPLICAS =
      Pattern.compile("\"data\"\\s*:\\s*\\{[^}]*\"replicas\"\\s*:\\s*\"\\s*(\\d+)\\s*\"");
  static final Pattern SERVER = Pattern.compile("^server\\.(\\d+)=([^;]*)");
  static final int RETRY_MILLIS = 500;

  private MemberLeave() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** The count the member follows, and where it came from (for the line). */
  record Count(int replicas, String source, boolean gone) {}

  static int run(String[] args) {
    if (args.length != 6 || !args[1].matches("[1-9][0-9]*") || !args[5].matches("[0-9]+")) {
      System.err.println(
          "usage: MemberLeave HOST:PORT MYID STATEFULSET NAMESPACE REPLICAS_FILE SECONDS; password on stdin");
      return EnsembleReconfig.USAGE;
    }
    int myid = Integer.parseInt(args[1]);
    long deadline = System.nanoTime() + Duration.ofSeconds(Long.parseLong(args[5])).toNanos();
    Count count = count(args[2], args[3], Path.of(args[4]));
    if (count == null) {
      System.out.println("member " + myid + " stops without leaving: no live count (API server) and no mounted"
          + " count in " + args[4]);
      return EnsembleReconfig.COMMITTED;
    }
    if (count.gone()) {
      System.out.println("member " + myid + " stops without leaving: " + count.source());
      return EnsembleReconfig.COMMITTED;
    }
    if (count.replicas() == 0 || myid <= count.replicas()) {
      System.out.println("member " + myid + " stays a voter (replicas=" + count.replicas() + ", " + count.source()
          + (count.replicas() == 0 ? ": a pause, the membership is kept" : "") + "): stopping without a change");
      return EnsembleReconfig.COMMITTED;
    }
    String password = EnsembleReconfig.password();
    if (password == null) {
      System.out.println("member " + myid + " could not leave: no password on stdin");
      return EnsembleReconfig.FAILED;
    }
    return leave(args[0], myid, password, count, deadline);
  }

  static int leave(String connect, int myid, String password, Count count, long deadline) {
    String last = "";
    try (ZooKeeperAdmin admin = EnsembleReconfig.connect(connect, password)) {
      while (true) {
        Stat stat = new Stat();
        String membership = new String(admin.getConfig(false, stat), StandardCharsets.UTF_8);
        List<Integer> voters = voters(membership);
        long version = version(membership);
        if (!voters.contains(myid)) {
          System.out.println("member " + myid + " is not a voter of "
              + (version < 0 ? "a dynamic membership" : "membership " + Long.toHexString(version)) + " (replicas=" + count.replicas() + ", " + count.source() + "): nothing to leave");
          return EnsembleReconfig.COMMITTED;
        }
        if (voters.size() == 1) {
          System.out.println("member " + myid + " is the last voter: it stays one (replicas=" + count.replicas()
              + ")");
          return EnsembleReconfig.COMMITTED;
        }
        try {
          byte[] next = admin.reconfigure(null, Integer.toString(myid), null, version, new Stat());
          String committed = new String(next, StandardCharsets.UTF_8);
          System.out.println("replicas=" + count.replicas() + " (" + count.source() + "): member " + myid
              + " left the voters before stopping; voters now " + voters(committed) + ", membership "
              + Long.toHexString(version(committed)));
          return EnsembleReconfig.COMMITTED;
        } catch (KeeperException.BadVersionException | KeeperException.ReconfigInProgress
            | KeeperException.NewConfigNoQuorum e) {
          last = e.code().toString(); // another member's change came first, or a synced quorum is not there yet
        }
        if (System.nanoTime() > deadline) {
          System.out.println("member " + myid + " could not leave the voters in time (last: " + last + "); the"
              + " leader removes it once its pod is gone");
          return EnsembleReconfig.FAILED;
        }
        Thread.sleep(RETRY_MILLIS);
      }
    } catch (KeeperException e) {
      System.out.println("member " + myid + " could not leave: " + e.code() + "; the leader removes it once its pod"
          + " is gone");
    } catch (IOException e) {
      System.out.println("member " + myid + " could not leave: " + e.getMessage() + "; the leader removes it once"
          + " its pod is gone");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.out.println("member " + myid + " could not leave: interrupted");
    }
    return EnsembleReconfig.FAILED;
  }

  /** The live count from the API server, else the mounted one; null when neither can be read. */
  static Count count(String statefulset, String namespace, Path mounted) {
    String why;
    try {
      return live(statefulset, namespace);
    } catch (IOException | GeneralSecurityException e) {
      why = e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      why = "interrupted";
    }
    try {
      String text = Files.readString(mounted).strip();
      return new Count(Integer.parseInt(text), "the mounted count: the API server could not be asked (" + why + ")",
          false);
    } catch (IOException | NumberFormatException e) {
      System.err.println("no live count (" + why + ") and no mounted count: " + e.getMessage());
      return null;
    }
  }

  static Count live(String statefulset, String namespace)
      throws IOException, GeneralSecurityException, InterruptedException {
    String host = System.getenv("KUBERNETES_SERVICE_HOST");
    String port = System.getenv("KUBERNETES_SERVICE_PORT");
    if (host == null || port == null) {
      throw new IOException("KUBERNETES_SERVICE_HOST/PORT are not set");
    }
    Path tokenFile = ACCOUNT.resolve("token");
    if (!Files.isReadable(tokenFile)) {
      throw new IOException(tokenFile + " is not mounted");
    }
    String token = Files.readString(tokenFile).strip();
    HttpClient client = HttpClient.newBuilder()
        .sslContext(trusting(ACCOUNT.resolve("ca.crt")))
        .connectTimeout(Duration.ofSeconds(5))
        .build();
    String where = host.contains(":") ? "[" + host + "]" : host;
    String configMap = statefulset + "-ensemble";
    URI uri = URI.create("https://" + where + ":" + port + "/api/v1/namespaces/" + namespace + "/configmaps/"
        + configMap);
    HttpRequest request = HttpRequest.newBuilder(uri)
        .header("Authorization", "Bearer " + token)
        .header("Accept", "application/json")
        .timeout(Duration.ofSeconds(5))
        .GET()
        .build();
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() == 404) {
      return new Count(0, "ConfigMap " + namespace + "/" + configMap + " is gone (an uninstall)", true);
    }
    if (response.statusCode() != 200) {
      throw new IOException("GET " + uri.getPath() + " answered " + response.statusCode());
    }
    Matcher matcher = DATA_REPLICAS.matcher(response.body());
    if (!matcher.find()) {
      throw new IOException("ConfigMap " + configMap + " has no data.replicas count");
    }
    return new Count(Integer.parseInt(matcher.group(1)), "the live count in ConfigMap " + configMap, false);
  }

  static SSLContext trusting(Path caFile) throws IOException, GeneralSecurityException {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(caFile)) {
      int n = 0;
      for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("ca-" + n++, certificate);
      }
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, factory.getTrustManagers(), null);
    return context;
  }

  /** The ids of the participants of a membership (getConfig's text), ascending. */
  static List<Integer> voters(String membership) {
    List<Integer> ids = new ArrayList<>();
    for (String line : membership.split("\n")) {
      Matcher matcher = SERVER.matcher(line.strip());
      if (matcher.find()) {
        String[] parts = matcher.group(2).split(":");
        if (parts.length < 4 || "participant".equals(parts[3])) {
          ids.add(Integer.parseInt(matcher.group(1)));
        }
      }
    }
    ids.sort(null);
    return ids;
  }

  static long version(String membership) {
    for (String line : membership.split("\n")) {
      if (line.startsWith("version=")) {
        return Long.parseLong(line.substring("version=".length()).strip(), 16);
      }
    }
    return -1;
  }
}
