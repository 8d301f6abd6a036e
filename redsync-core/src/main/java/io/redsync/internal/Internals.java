package io.redsync.internal;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.resource.ClientResources;
import io.redsync.KeepAlive;
import io.redsync.LockOptions;
import io.redsync.Redsync;

import java.time.Duration;
import java.util.List;

/**
 * The one public door from the API packages ({@code io.redsync}) into the engine; every other type of this package
 * is package-private. Not API: {@code module-info} does not export this package, and {@code ModuleBoundarySpec}
 * fails if a second public type appears here. Each method hands over to the class that owns the rule.
 */
public final class Internals {
    /** The connect timeout when none is set: ample for a TLS handshake on a cold, loaded JVM. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private Internals() {
    }

    /**
     * Builds an instance from {@code Redsync.Builder}'s fields, validating the node specifications.
     *
     * @param specs           URIs (String), {@link #clientNode} carriers, connections or {@code LockNode}s
     * @param keyPrefix       the key prefix
     * @param defaults        default options
     * @param sslOptions      TLS settings for the client made for URI nodes, or null for Lettuce's defaults
     * @param clientResources the caller's Lettuce resources for URI nodes, or null for the shared ones
     * @param connectTimeout  how long a connect may take
     * @param listeners       the listeners told about lock calls, leases and node commands, in order (may be empty)
     * @return the instance
     */
    public static Redsync newRedsync(List<Object> specs, String keyPrefix, LockOptions defaults, SslOptions sslOptions,
                                     ClientResources clientResources, Duration connectTimeout,
                                     List<io.redsync.RedsyncListener> listeners) {
        return new RedsyncImpl(specs, keyPrefix, defaults, sslOptions, clientResources, connectTimeout, listeners);
    }

    /**
     * A node given as the caller's Lettuce client plus a URI, as a node specification for {@link #newRedsync}.
     *
     * @param client the caller's client (never closed here)
     * @param uri    the node's URI
     * @return the specification
     */
    public static Object clientNode(RedisClient client, RedisURI uri) {
        return new RedsyncImpl.ClientNode(client, uri);
    }

    /**
     * The drift of a TTL ({@code ttl × driftFactor + 2 ms}).
     *
     * @param ttl         the TTL
     * @param driftFactor the drift factor
     * @return the drift
     */
    public static Duration drift(Duration ttl, double driftFactor) {
        return Redlock.drift(ttl, driftFactor);
    }

    /**
     * Checks a TTL: positive, whole milliseconds.
     *
     * @param name the field's name, for the message
     * @param ttl  the TTL
     */
    public static void checkTtl(String name, Duration ttl) {
        Redlock.checkTtl(name, ttl);
    }

    /**
     * Checks that a TTL is at least twice its drift.
     *
     * @param name        the field's name, for the message
     * @param ttl         the TTL
     * @param driftFactor the drift factor
     */
    public static void checkAboveDrift(String name, Duration ttl, double driftFactor) {
        Redlock.checkAboveDrift(name, ttl, driftFactor);
    }

    /**
     * Checks a keep-alive policy against a lease's expiry, drift and node timeout.
     *
     * @param policy      the policy
     * @param expiry      the expiry
     * @param drift       the drift
     * @param nodeTimeout the node timeout
     */
    public static void checkKeepAlive(KeepAlive policy, Duration expiry, Duration drift, Duration nodeTimeout) {
        KeepAliveTiming.check(policy, expiry, drift, nodeTimeout);
    }

    /**
     * {@code key} as the stem of a key that must share its Redis Cluster slot.
     *
     * @param key a key
     * @return the stem
     */
    public static String tagged(String key) {
        return FenceKeys.tagged(key);
    }
}
