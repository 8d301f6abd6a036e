package io.redsync.samples;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
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
    /** Printed when no redis-server can be started: how to get one, or how to use Docker instead. */
    static final String HOW_TO_GET_REDIS = """
            Get a redis-server (any of):
              Debian/Ubuntu:  sudo apt-get install redis-server
              Fedora/RHEL:    sudo dnf install redis
              macOS:          brew install redis
              or point REDIS_SERVER at a redis-server executable you already have.
            Or run three nodes in Docker and point the samples at them:
              for port in 6379 6380 6381; do docker run -d --rm -p $port:6379 redis:7; done
              export REDSYNC_NODES=redis://localhost:6379,redis://localhost:6380,redis://localhost:6381
              mvn -q -pl samples -am test-compile exec:java""";

    private final List<String> uris;
    private final RedisNodes started;

    private LocalNodes(List<String> uris, RedisNodes started) {
        this.uris = uris;
        this.started = started;
    }

    /**
     * Reads {@code REDSYNC_NODES} or starts {@code count} local nodes.
     *
     * @throws IllegalStateException when no redis-server can be found or started (the message says why)
     */
    static LocalNodes fromEnvironmentOrStart(int count) {
        List<String> configured = configured();
        if (!configured.isEmpty()) {
            return new LocalNodes(configured, null);
        }
        RedisNodes nodes = RedisNodes.start(count);
        return new LocalNodes(nodes.uris(), nodes);
    }

    /** The URIs in {@code REDSYNC_NODES}, empty when it is not set. */
    static List<String> configured() {
        String value = System.getenv("REDSYNC_NODES");
        if (value == null || value.isBlank()) {
            return List.of();
        }
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
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

    /** Plays "another process" (or an operator's DEL) removing {@code key} from every node. */
    void deleteEverywhere(String key) {
        deleteEverywhere(uris, key);
    }

    static void deleteEverywhere(List<String> uris, String key) {
        RedisClient client = RedisClient.create();
        try {
            for (String uri : uris) {
                try (StatefulRedisConnection<String, String> connection = client.connect(RedisURI.create(uri))) {
                    connection.sync().del(key);
                }
            }
        } finally {
            client.shutdown();
        }
    }

    @Override
    public void close() {
        if (started != null) {
            started.close();
        }
    }
}
