package io.redsync.samples;

import io.redsync.testkit.RedisNode;
import io.redsync.testkit.RedisNodes;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The Redis nodes a sample runs against: the user's own ({@code REDSYNC_NODES=redis://a,redis://b,...})
 * or, when none are configured, local redis-server processes started through the testkit.
 */
final class LocalNodes implements AutoCloseable {
    private final List<String> uris;
    private final RedisNodes started;

    private LocalNodes(List<String> uris, RedisNodes started) {
        this.uris = uris;
        this.started = started;
    }

    /**
     * Reads {@code REDSYNC_NODES} or starts {@code count} local nodes.
     *
     * @throws IllegalStateException with install instructions when no redis-server can be found
     */
    static LocalNodes fromEnvironmentOrStart(int count) {
        String configured = System.getenv("REDSYNC_NODES");
        if (configured != null && !configured.isBlank()) {
            List<String> uris = Arrays.stream(configured.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
            return new LocalNodes(uris, null);
        }
        RedisNodes nodes = RedisNodes.start(count);
        return new LocalNodes(nodes.uris(), nodes);
    }

    List<String> uris() {
        return uris;
    }

    /** The started nodes, for fault injection; empty when running against the user's own nodes. */
    Optional<RedisNodes> local() {
        return Optional.ofNullable(started);
    }

    Optional<RedisNode> node(int index) {
        return local().map(n -> n.node(index));
    }

    @Override
    public void close() {
        if (started != null) {
            started.close();
        }
    }
}
