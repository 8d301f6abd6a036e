package io.redsync;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import io.redsync.internal.Internals;
import io.redsync.spi.LockNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Entry point: a set of N independent Redis masters and the locks over them (Redlock). A lock is held
 * when a quorum ({@code N / 2 + 1}) of nodes hold its key.
 *
 * <pre>{@code
 * try (Redsync redsync = Redsync.create("redis://10.0.0.1", "redis://10.0.0.2", "redis://10.0.0.3");
 *      Lease lease = redsync.lock("invoice:42")) {
 *     ...
 * }
 * }</pre>
 *
 * <p>Thread-safe; create one per application and share it. Connections are made lazily, one multiplexed
 * connection per node, so building never blocks and an unreachable node is reported by the first call
 * that needs it ({@link NodeException} naming the node). {@link #close()} closes what this instance
 * created and nothing the caller passed in.
 *
 * @since 0.1.0
 */
public interface Redsync extends AutoCloseable {

    /**
     * Builds an instance over the given nodes with default options.
     *
     * @param uris one URI per node: {@code redis://[[user]:password@]host[:port][/db]} or {@code rediss://...}
     * @return the instance
     * @throws IllegalArgumentException if there are no URIs, one is malformed, or two name the same node
     * @since 0.1.0
     */
    static Redsync create(String... uris) {
        return builder().uris(Arrays.asList(Objects.requireNonNull(uris, "uris must not be null"))).build();
    }

    /**
     * Builds an instance over the given nodes with default options.
     *
     * @param uris one URI per node
     * @return the instance
     * @throws IllegalArgumentException as {@link #create(String...)}
     * @since 0.1.0
     */
    static Redsync create(Collection<String> uris) {
        return builder().uris(uris).build();
    }

    /**
     * A builder for full control: nodes from URIs, Lettuce clients or connections, a key prefix, and
     * default lock options.
     *
     * @return a new builder
     * @since 0.1.0
     */
    static Builder builder() {
        return new Builder();
    }

    /**
     * A mutex with this instance's default options.
     *
     * @param name the lock name, non-blank; the key is {@code keyPrefix + name}
     * @return a new mutex
     * @throws IllegalArgumentException if {@code name} is blank
     * @since 0.1.0
     */
    Mutex mutex(String name);

    /**
     * A mutex with its own options.
     *
     * @param name    the lock name, non-blank
     * @param options the options
     * @return a new mutex
     * @throws IllegalArgumentException if {@code name} is blank
     * @since 0.1.0
     */
    Mutex mutex(String name, LockOptions options);

    /**
     * Shortcut for {@code mutex(name).lock()}.
     *
     * @param name the lock name
     * @return the lease
     * @throws InterruptedException as {@link Mutex#lock()}
     * @since 0.1.0
     */
    Lease lock(String name) throws InterruptedException;

    /**
     * Shortcut for {@code mutex(name, options).lock()}.
     *
     * @param name    the lock name
     * @param options the options
     * @return the lease
     * @throws InterruptedException as {@link Mutex#lock()}
     * @since 0.1.0
     */
    Lease lock(String name, LockOptions options) throws InterruptedException;

    /**
     * Shortcut for {@code mutex(name).lockAsync()}.
     *
     * @param name the lock name
     * @return as {@link Mutex#lockAsync()}
     * @since 0.1.0
     */
    CompletableFuture<Lease> lockAsync(String name);

    /**
     * Shortcut for {@code mutex(name, options).lockAsync()}.
     *
     * @param name    the lock name
     * @param options the options
     * @return as {@link Mutex#lockAsync()}
     * @since 0.1.0
     */
    CompletableFuture<Lease> lockAsync(String name, LockOptions options);

    /**
     * Shortcut for {@code mutex(name).executeLocked(action)}: locks, runs the action with the lease kept
     * alive, releases; interrupts the action and throws {@link LeaseLostException} if the lease is lost.
     *
     * <pre>{@code
     * Invoice paid = redsync.executeLocked("invoice:42", lease -> billing.charge(42));
     * }</pre>
     *
     * @param name   the lock name
     * @param action the work
     * @param <T>    the result type
     * @param <E>    the action's own checked exception
     * @return what the action returned
     * @throws E                    as thrown by the action
     * @throws InterruptedException if interrupted while waiting for the lock
     * @see Mutex#executeLocked(LockedAction)
     * @since 0.1.0
     */
    <T, E extends Exception> T executeLocked(String name, LockedAction<T, E> action) throws E, InterruptedException;

    /**
     * Shortcut for {@code mutex(name, options).executeLocked(action)}.
     *
     * @param name    the lock name
     * @param options the options, including {@link LockOptions#keepAlive()}
     * @param action  the work
     * @param <T>     the result type
     * @param <E>     the action's own checked exception
     * @return what the action returned
     * @throws E                    as thrown by the action
     * @throws InterruptedException if interrupted while waiting for the lock
     * @see Mutex#executeLocked(LockedAction)
     * @since 0.1.0
     */
    <T, E extends Exception> T executeLocked(String name, LockOptions options, LockedAction<T, E> action)
            throws E, InterruptedException;

    /**
     * Connects every node not connected yet and waits until each connection is up or its connect failed, at most
     * {@code timeout}. Lock calls do not need it (their first attempt starts once a quorum of nodes is connected,
     * waiting at most the {@linkplain Builder#connectTimeout(Duration) connect timeout}); call it where the first lock call
     * must not wait for connecting, e.g. at startup, or to find out early whether the nodes are reachable.
     *
     * <pre>{@code
     * if (!redsync.awaitConnected(Duration.ofSeconds(10))) {
     *     log.warn("not every Redis node is connected yet; lock calls will report the failing ones");
     * }
     * }</pre>
     *
     * <p>A node whose connect failed is not connected again here until the next call (of this method or a lock
     * call); its failure is reported by lock calls, with the reason.
     *
     * @param timeout how long to wait at most; zero only starts connecting
     * @return true if every node's connection is up; false if one failed to connect or the timeout passed first
     * @throws InterruptedException if the thread is interrupted while waiting; the connects go on in the
     *                              background, and the interrupt status is cleared
     * @throws IllegalStateException if this instance is closed
     * @since 0.1.0
     */
    boolean awaitConnected(Duration timeout) throws InterruptedException;

    /** @return the options {@link #mutex(String)} uses @since 0.1.0 */
    LockOptions defaults();

    /**
     * A builder pre-filled with this instance's {@link #defaults()}, for per-call options that change only
     * what they set and keep the rest (expiry, fencing, keep-alive, ...):
     *
     * <pre>{@code
     * Lease lease = redsync.lock("report", redsync.options().tries(Integer.MAX_VALUE).build());
     * }</pre>
     *
     * <p>{@link LockOptions#builder()} starts from the library's defaults instead.
     *
     * @return a new builder; building it does not change this instance's defaults
     * @since 0.1.0
     */
    default LockOptions.Builder options() {
        return defaults().toBuilder();
    }

    /** @return the prefix put before every lock name to form its key (empty by default) @since 0.1.0 */
    String keyPrefix();

    /** @return the number of nodes @since 0.1.0 */
    int nodeCount();

    /** @return the number of nodes that must agree: {@code nodeCount() / 2 + 1} @since 0.1.0 */
    int quorum();

    /**
     * Closes the connections and clients this instance created (not those passed in), and stops its
     * timer. Pending calls fail. Idempotent.
     *
     * <p>Waits, for a bounded time, for the cleanup releases of calls that were pending. On an interrupted thread
     * it stops waiting, still closes everything and gives back Lettuce's shared threads, returns normally and
     * keeps the thread's interrupt flag set.
     *
     * @since 0.1.0
     */
    @Override
    void close();

    /**
     * Collects nodes and settings for a {@link Redsync}. Node indices in exceptions follow the order of
     * the calls adding nodes. Not thread-safe.
     *
     * @since 0.1.0
     */
    final class Builder {
        private final List<Object> nodes = new ArrayList<>();
        private String keyPrefix = "";
        private LockOptions defaults = LockOptions.defaults();
        private SslOptions sslOptions;
        private ClientResources clientResources;
        private Duration connectTimeout = Internals.DEFAULT_CONNECT_TIMEOUT;
        private final List<RedsyncListener> listeners = new ArrayList<>();

        private Builder() {
        }

        /**
         * Adds a node by URI; this instance will own its client and connection.
         *
         * @param uri {@code redis://[[user]:password@]host[:port][/db]}, {@code rediss://...} for TLS,
         *            or {@code redis-socket:///path}
         * @return this builder
         * @since 0.1.0
         */
        public Builder uri(String uri) {
            nodes.add(Objects.requireNonNull(uri, "uri must not be null"));
            return this;
        }

        /**
         * Adds one node per URI.
         *
         * @param uris the URIs
         * @return this builder
         * @since 0.1.0
         */
        public Builder uris(Collection<String> uris) {
            Objects.requireNonNull(uris, "uris must not be null");
            uris.forEach(this::uri);
            return this;
        }

        /**
         * Adds a node reached through the caller's Lettuce client, which stays the caller's: this instance
         * makes and owns one connection on it, and never shuts the client down.
         *
         * @param client the client
         * @param uri    the node's address
         * @return this builder
         * @since 0.1.0
         */
        public Builder node(RedisClient client, RedisURI uri) {
            nodes.add(Internals.clientNode(Objects.requireNonNull(client, "client must not be null"),
                    Objects.requireNonNull(uri, "uri must not be null")));
            return this;
        }

        /**
         * Adds a node over the caller's open connection. It is used as is (multiplexed with the caller's
         * own commands) and never closed by this instance.
         *
         * @param connection a connection with String keys and values
         * @return this builder
         * @since 0.1.0
         */
        public Builder node(StatefulRedisConnection<String, String> connection) {
            nodes.add(Objects.requireNonNull(connection, "connection must not be null"));
            return this;
        }

        /**
         * Adds a node of any implementation, e.g. for fault injection in tests. It is closed with this
         * instance.
         *
         * @param node the node
         * @return this builder
         * @since 0.1.0
         */
        public Builder node(LockNode node) {
            nodes.add(Objects.requireNonNull(node, "node must not be null"));
            return this;
        }

        /**
         * Sets a namespace put before every lock name to form the Redis key, e.g. {@code "billing:locks:"}.
         *
         * @param keyPrefix the prefix, may be empty
         * @return this builder
         * @since 0.1.0
         */
        public Builder keyPrefix(String keyPrefix) {
            this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix must not be null");
            return this;
        }

        /**
         * Sets the options used by {@link Redsync#mutex(String)}.
         *
         * @param defaults the options
         * @return this builder
         * @since 0.1.0
         */
        public Builder defaults(LockOptions defaults) {
            this.defaults = Objects.requireNonNull(defaults, "defaults must not be null");
            return this;
        }

        /**
         * Sets how the nodes added by {@link #uri(String)} with {@code rediss://} verify the server and present
         * themselves over TLS: a trust store or CA certificate for servers whose certificate is not signed by a
         * CA the JVM trusts, a key store for client certificates, protocols and ciphers. Without it the JVM's
         * default trust store is used. Host names are verified against the certificate in either case.
         *
         * <pre>{@code
         * Redsync.builder()
         *     .uris(List.of("rediss://10.0.0.1:6380", "rediss://10.0.0.2:6380", "rediss://10.0.0.3:6380"))
         *     .sslOptions(SslOptions.builder().trustManager(new File("/etc/redis/ca.crt")).build())
         *     .build();
         * }</pre>
         *
         * <p>Nodes given as your own client ({@link #node(RedisClient, RedisURI)}) use that client's options.
         *
         * @param sslOptions Lettuce's TLS settings
         * @return this builder
         * @since 0.1.0
         */
        public Builder sslOptions(SslOptions sslOptions) {
            this.sslOptions = Objects.requireNonNull(sslOptions, "sslOptions must not be null");
            return this;
        }

        /**
         * Uses your Lettuce resources (event loops, timers, DNS resolver, event bus, metrics and tracing) for the
         * client this instance makes for the nodes added by {@link #uri(String)}, instead of the library's own
         * shared ones. They stay yours: closing the instance never shuts them down. Nodes given as your own client
         * ({@link #node(RedisClient, RedisURI)}) use that client's resources.
         *
         * <pre>{@code
         * ClientResources resources = DefaultClientResources.create(); // or your application's (e.g. Spring Boot's)
         * Redsync redsync = Redsync.builder().uris(uris).clientResources(resources).build();
         * ...
         * redsync.close();
         * resources.shutdown();
         * }</pre>
         *
         * @param clientResources the resources, shut down by you after the instance is closed
         * @return this builder
         * @since 0.1.0
         */
        public Builder clientResources(ClientResources clientResources) {
            this.clientResources = Objects.requireNonNull(clientResources, "clientResources must not be null");
            return this;
        }

        /**
         * Sets how long connecting to a node may take: the TCP connect and handshake of the nodes added by {@link
         * #uri(String)}, and how long a lock call waits for connections still being made before its first attempt
         * starts (connecting is not part of an attempt: its validity and node timeouts start once a quorum of the
         * nodes is connected). Within the call's {@link LockOptions#acquireTimeout() acquire timeout}, if one is set. Default 5 s.
         *
         * @param connectTimeout positive
         * @return this builder
         * @since 0.1.0
         */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout must not be null");
            return this;
        }

        /**
         * Adds a listener told what the locks do: lock calls and their outcomes, releases, extensions, lost leases
         * and every node command ({@link RedsyncListener}). {@code redsync-micrometer} turns them into meters and
         * Observations:
         *
         * <pre>{@code
         * Redsync.builder().uris(uris).listener(RedsyncMetrics.builder(meterRegistry).build()).build();
         * }</pre>
         *
         * <p>Listeners are called in the order added. Without any, nothing is reported and nothing is spent on it.
         *
         * @param listener the listener
         * @return this builder
         * @since 0.1.0
         */
        public Builder listener(RedsyncListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener must not be null"));
            return this;
        }

        /**
         * Validates the nodes and builds the instance. Starts connecting in the background; never blocks or fails
         * on the network (lock calls report unreachable nodes).
         *
         * @return the instance
         * @throws IllegalArgumentException if there are no nodes, a URI is malformed or uses an unsupported
         *                                  scheme, two entries name the same node or the same host and port, {@link
         *                                  #sslOptions} was set but no URI uses {@code rediss://}, {@link
         *                                  #clientResources} was set but no node is a URI, or the connect timeout is
         *                                  not positive
         * @since 0.1.0
         */
        public Redsync build() {
            return Internals.newRedsync(List.copyOf(nodes), keyPrefix, defaults, sslOptions, clientResources, connectTimeout,
                    List.copyOf(listeners));
        }
    }
}
