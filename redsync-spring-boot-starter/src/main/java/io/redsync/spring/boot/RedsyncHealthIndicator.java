package io.redsync.spring.boot;

import io.lettuce.core.RedisURI;
import io.redsync.KeepAlive;
import io.redsync.NodeException;
import io.redsync.QuorumException;
import io.redsync.Redsync;
import io.redsync.Votes;
import io.redsync.lettuce.LettuceNode;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Health of a {@link Redsync} instance's nodes: {@code UP} when a quorum of them answer (locks can be taken),
 * {@code DOWN} otherwise, with one entry per node under {@code nodes} (its address, {@code UP} or {@code DOWN} and
 * the reason) and the {@code quorum} and {@code reachable} counts.
 *
 * <p>Each check asks every node, in parallel, for a probe key ({@value #PROBE}) that no lock uses, through the
 * instance's own connections: a release of a lease that was never taken, which finds the key absent and changes
 * nothing. Each node's answer is bounded by the node timeout (a node not connected yet first gets the connect
 * timeout).
 *
 * @since 0.1.0
 */
public class RedsyncHealthIndicator extends AbstractHealthIndicator {
    /** The lock name the probe asks the nodes about (never held). @since 0.1.0 */
    public static final String PROBE = "redsync:health-probe";

    private final Redsync redsync;
    private final List<String> addresses;

    /**
     * An indicator for an instance.
     *
     * @param redsync the instance
     * @param nodes   the node URIs in the instance's order, to name them in the details (passwords left out); an
     *                empty list or one of another size names them by index only
     * @since 0.1.0
     */
    public RedsyncHealthIndicator(Redsync redsync, List<String> nodes) {
        super("Redsync health check failed");
        this.redsync = Objects.requireNonNull(redsync, "redsync must not be null");
        this.addresses = nodes == null || nodes.size() != redsync.nodeCount() ? List.of()
                : nodes.stream().map(RedsyncHealthIndicator::address).toList();
    }

    private static String address(String uri) {
        try {
            return LettuceNode.addressOf(RedisURI.create(uri));
        } catch (RuntimeException e) {
            return "?";
        }
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        Votes votes = null;
        try {
            redsync.mutex(PROBE, redsync.options().value("health-probe").keepAlive(KeepAlive.disabled()).build()).unlock();
        } catch (QuorumException e) {
            votes = e.votes();
        }
        int n = redsync.nodeCount();
        Map<String, Object> nodes = new LinkedHashMap<>();
        int reachable = 0;
        for (int i = 0; i < n; i++) {
            Map<String, Object> node = new LinkedHashMap<>();
            if (!addresses.isEmpty()) {
                node.put("address", addresses.get(i));
            }
            boolean up = votes == null || votes.succeeded().contains(i) || votes.absent().contains(i) || votes.heldByOthers().contains(i);
            node.put("status", up ? "UP" : "DOWN");
            if (up) {
                reachable++;
            } else if (votes != null) {
                for (NodeException error : votes.errors()) {
                    if (error.nodeIndex() == i) {
                        node.putIfAbsent("address", error.address());
                        node.put("error", error.reason() + ": " + (error.getCause() != null ? error.getCause().getMessage() : error.getMessage()));
                    }
                }
                node.putIfAbsent("error", "no answer");
            }
            nodes.put(String.valueOf(i), node);
        }
        (reachable >= redsync.quorum() ? builder.up() : builder.down())
                .withDetail("quorum", redsync.quorum())
                .withDetail("reachable", reachable)
                .withDetail("nodes", nodes);
    }
}
