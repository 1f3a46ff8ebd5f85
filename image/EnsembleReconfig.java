package io.kubezookeeper.admin;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.data.Stat;

/**
 * One incremental reconfiguration through ZooKeeperAdmin, as the super user, with its result as an exit code and one
 * line, instead of matching the text zkCli prints (image/ensemble.sh, zk_reconfig).
 *
 * <p>Usage: {@code EnsembleReconfig HOST:PORT FROM_VERSION (--add SERVER_LINE | --remove IDS)}; the super user's
 * password comes on stdin (never on a command line). FROM_VERSION is the membership version (hex) the change was
 * computed from: a change computed from an older view is refused. Exit codes: 0 committed (stdout: the new
 * membership's version), 2 usage, 3 another change came first (bad version, a reconfiguration in progress), 4 the new
 * membership has no synced quorum yet, 5 no authority, 6 anything else (no connection, a timeout). Stderr says why.
 */
public final class EnsembleReconfig {
  static final int COMMITTED = 0;
  static final int USAGE = 2;
  static final int RETRY = 3;
  static final int NO_QUORUM = 4;
  static final int NO_AUTHORITY = 5;
  static final int FAILED = 6;
  static final int CONNECT_SECONDS = 20;

  private EnsembleReconfig() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** The super user's password, the first line on stdin (never a command line); null when there is none. */
  static String password() {
    try {
      String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      return line == null || line.isBlank() ? null : line.strip();
    } catch (IOException e) {
      return null;
    }
  }

  /** A session with HOST:PORT, authenticated as the super user; IOException when none comes within 20 s. */
  static ZooKeeperAdmin connect(String hostPort, String password) throws IOException, InterruptedException {
    CountDownLatch connected = new CountDownLatch(1);
    Watcher watcher = event -> {
      if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
        connected.countDown();
      }
    };
    ZooKeeperAdmin admin = new ZooKeeperAdmin(hostPort, CONNECT_SECONDS * 1000, watcher);
    if (!connected.await(CONNECT_SECONDS, TimeUnit.SECONDS)) {
      admin.close();
      throw new IOException("no connection to " + hostPort + " within " + CONNECT_SECONDS + " s");
    }
    admin.addAuthInfo("digest", ("super:" + password).getBytes(StandardCharsets.UTF_8));
    return admin;
  }

  static int run(String[] args) {
    if (args.length != 4 || !("--add".equals(args[2]) || "--remove".equals(args[2]))) {
      System.err.println(
          "usage: EnsembleReconfig HOST:PORT FROM_VERSION (--add SERVER_LINE | --remove IDS); password on stdin");
      return USAGE;
    }
    long fromVersion;
    try {
      fromVersion = Long.parseLong(args[1], 16);
    } catch (NumberFormatException e) {
      System.err.println("FROM_VERSION '" + args[1] + "' is not a hex membership version");
      return USAGE;
    }
    String password = password();
    if (password == null) {
      System.err.println("no password on stdin: the super user's password is the authority to reconfigure");
      return NO_AUTHORITY;
    }
    String joining = "--add".equals(args[2]) ? args[3] : null;
    String leaving = "--remove".equals(args[2]) ? args[3] : null;
    ZooKeeperAdmin admin = null;
    try {
      admin = connect(args[0], password);
      byte[] membership = admin.reconfigure(joining, leaving, null, fromVersion, new Stat());
      for (String line : new String(membership, StandardCharsets.UTF_8).split("\n")) {
        if (line.startsWith("version=")) {
          System.out.println(line.substring("version=".length()).strip());
        }
      }
      return COMMITTED;
    } catch (KeeperException.BadVersionException | KeeperException.ReconfigInProgress e) {
      System.err.println("another change came first (" + e.code() + ")");
      return RETRY;
    } catch (KeeperException.NewConfigNoQuorum e) {
      System.err.println("the new membership would have no synced quorum yet");
      return NO_QUORUM;
    } catch (KeeperException.NoAuthException e) {
      System.err.println("no authority: ZooKeeper refused the super user's password");
      return NO_AUTHORITY;
    } catch (KeeperException e) {
      System.err.println("refused: " + e.code() + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"));
      return FAILED;
    } catch (IOException e) {
      System.err.println(e.getMessage());
      return FAILED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.err.println("interrupted");
      return FAILED;
    } finally {
      if (admin != null) {
        try {
          admin.close();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
