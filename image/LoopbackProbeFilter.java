package io.kubezookeeper.logback;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.slf4j.Marker;

/**
 * Drops ZooKeeper's INFO line "Processing ruok command from /127.0.0.1:PORT" for four-letter words that come over
 * loopback: the image's own probes (ready_live.sh) and metrics.sh, about 18 lines a minute per member. A word from any
 * other address (a client, a monitoring system, another member) still logs, and so does everything at DEBUG or finer.
 * Referenced from the image's logback.xml as a turboFilter.
 */
public final class LoopbackProbeFilter extends TurboFilter {
  /** The message ZooKeeper's NIOServerCnxn and NettyServerCnxn log for each four-letter word. */
  static final String FORMAT = "Processing {} command from {}";

  @Override
  public FilterReply decide(
      Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (level != Level.INFO || !FORMAT.equals(format) || params == null || params.length != 2) {
      return FilterReply.NEUTRAL;
    }
    if (!(params[1] instanceof InetSocketAddress)) {
      return FilterReply.NEUTRAL;
    }
    InetAddress address = ((InetSocketAddress) params[1]).getAddress();
    if (address == null || !address.isLoopbackAddress()) {
      return FilterReply.NEUTRAL;
    }
    // At DEBUG or TRACE the user asked for everything: keep the line.
    return logger.getEffectiveLevel().isGreaterOrEqual(Level.INFO) ? FilterReply.DENY : FilterReply.NEUTRAL;
  }
}
