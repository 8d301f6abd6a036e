package io.redsync.internal;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandInterruptedException;
import io.lettuce.core.RedisCredentials;
import io.lettuce.core.RedisCredentialsProvider;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.StaticCredentialsProvider;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import io.redsync.Lease;
import io.redsync.LockOptions;
import io.redsync.LockedAction;
import io.redsync.Mutex;
import io.redsync.Redsync;
import io.redsync.RedsyncListener;
import io.redsync.lettuce.LettuceNode;
import io.redsync.spi.LockNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** The {@link Redsync} implementation. Internal: build instances with {@link Redsync#builder()} ({@link Internals#newRedsync}). */
final class RedsyncImpl implements Redsync {
    private static final Logger LOG = LoggerFactory.getLogger(Redsync.class);
    /**
     * A node given as the caller's Lettuce client plus a URI. Internal carrier for {@link Redsync.Builder}.
     *
     * @param client the caller's client (not closed by us)
     * @param uri    the node's URI
     */
    record ClientNode(RedisClient client, RedisURI uri) {
    }

    private final Engine engine;
    private final Context context;
    private final String keyPrefix;
    private final LockOptions defaults;
    private final RedisClient ownClient;
    private final ClientResources ownResources;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * Validates the node specifications and builds the instance.
     *
     * @param specs           URIs (String), {@link ClientNode}s, connections or {@link LockNode}s
     * @param keyPrefix       the key prefix
     * @param defaults        default options
     * @param sslOptions      TLS settings for the client made for URI nodes, or null for Lettuce's defaults
     * @param clientResources the caller's Lettuce resources for the client made for URI nodes, or null
     * @param connectTimeout  how long a connect may take, and a lock call waits for nodes still connecting
     * @param listeners       told what the locks do; empty for none
     */
    RedsyncImpl(List<Object> specs, String keyPrefix, LockOptions defaults, SslOptions sslOptions,
                ClientResources clientResources, Duration connectTimeout, List<RedsyncListener> listeners) {
        this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix must not be null");
        this.defaults = Objects.requireNonNull(defaults, "defaults must not be null");
        Objects.requireNonNull(connectTimeout, "connectTimeout must not be null");
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout must be positive, was " + connectTimeout
                    + "; e.g. Duration.ofSeconds(5)");
        }
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("no Redis nodes given: add at least one, e.g. Redsync.create(\"redis://host1:6379\", "
                    + "\"redis://host2:6379\", \"redis://host3:6379\") (Redlock wants an odd number of independent masters)");
        }
        // Parse and check everything before creating any resource, so bad input leaks nothing.
        List<RedisURI> uris = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        Map<Integer, String> shown = new HashMap<>();
        Map<Object, Integer> seenObjects = new IdentityHashMap<>();
        for (int i = 0; i < specs.size(); i++) {
            Object spec = specs.get(i);
            RedisURI uri;
            if (spec instanceof String s) {
                uri = parse(i, s, connectTimeout);
                uris.add(uri);
                shown.put(i, mask(s.trim()));
            } else if (spec instanceof ClientNode c) {
                uri = c.uri();
                shown.put(i, LettuceNode.addressOf(uri));
            } else {
                Integer earlier = seenObjects.put(spec, i);
                if (earlier != null) {
                    throw new IllegalArgumentException("nodes " + earlier + " and " + i + " are the same object; each node must be "
                            + "an independent Redis master given once");
                }
                continue;
            }
            // One server, one vote: the database number does not make another node.
            String server = (uri.getSocket() != null ? uri.getSocket() : uri.getHost() + ":" + uri.getPort()).toLowerCase(Locale.ROOT);
            Integer earlier = seen.put(server, i);
            if (earlier != null) {
                throw new IllegalArgumentException("nodes " + earlier + " ('" + shown.get(earlier) + "') and " + i + " ('"
                        + shown.get(i) + "') both reach the Redis server at " + server + " (a database number does not make "
                        + "another node): one process would cast two votes and could hold a majority alone; give each node "
                        + "once, each an independent Redis master");
            }
        }
        if (sslOptions != null && uris.stream().noneMatch(RedisURI::isSsl)) {
            throw new IllegalArgumentException("sslOptions was set, but no node URI uses TLS: give TLS nodes as "
                    + "rediss://host:port (nodes given as your own RedisClient use that client's SslOptions)");
        }
        if (clientResources != null && uris.isEmpty()) {
            throw new IllegalArgumentException("clientResources was set, but no node is given as a URI: the resources are "
                    + "used for the client made for URI nodes (nodes given as your own RedisClient use that client's resources)");
        }
        if (specs.size() % 2 == 0) {
            LOG.warn("Redsync over {} nodes: an even count tolerates no more failures than {} nodes; prefer an odd number",
                    specs.size(), specs.size() - 1);
        }

        ClientResources shared = null;
        RedisClient client = null;
        boolean built = false;
        try {
            if (!uris.isEmpty()) {
                if (clientResources == null) {
                    shared = SharedResources.acquire();
                }
                client = RedisClient.create(clientResources != null ? clientResources : shared);
                ClientOptions.Builder options = ClientOptions.builder();
                if (sslOptions != null) {
                    options.sslOptions(sslOptions);
                }
                client.setOptions(options
                        // A command issued while a node is disconnected fails at once instead of being queued
                        // and replayed later, when its attempt is long decided (it could leave a stray key).
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .autoReconnect(true)
                        .socketOptions(SocketOptions.builder().connectTimeout(connectTimeout).build())
                        .build());
            }
            ownResources = shared;
            ownClient = client;
            Telemetry telemetry = Telemetry.of(listeners);
            this.engine = new Engine(telemetry.observe(nodes(specs, uris, client)), connectTimeout.toNanos(), telemetry);
            this.context = Context.of(engine);
            built = true;
        } finally {
            if (!built) {
                // Whatever failed, the shared resources' count returns to where it was.
                shutDown(client, shared);
            }
        }
        // Connect now, in the background: building never blocks or fails on the network (a failure is
        // reported by the lock calls), and the first lock call usually finds the connections up.
        engine.connections.connected(0);
    }

    private static LockNode[] nodes(List<Object> specs, List<RedisURI> uris, RedisClient ownClient) {
        LockNode[] nodes = new LockNode[specs.size()];
        int next = 0;
        for (int i = 0; i < specs.size(); i++) {
            Object spec = specs.get(i);
            if (spec instanceof String) {
                nodes[i] = LettuceNode.lazy(ownClient, uris.get(next++));
            } else if (spec instanceof ClientNode c) {
                nodes[i] = LettuceNode.lazy(c.client(), c.uri());
            } else if (spec instanceof StatefulRedisConnection<?, ?> c) {
                @SuppressWarnings("unchecked")
                StatefulRedisConnection<String, String> conn = (StatefulRedisConnection<String, String>) c;
                nodes[i] = LettuceNode.of(conn, "connection " + i);
            } else {
                nodes[i] = (LockNode) spec;
            }
        }
        return nodes;
    }

    /**
     * Shuts down a client this instance made, then gives back the shared resources, even if the shutdown failed.
     * Never throws: on an interrupted thread Lettuce's blocking shutdown gives up at once (its shutdown goes on in
     * the background), and the interrupt flag is kept for the caller.
     */
    private static void shutDown(RedisClient client, ClientResources shared) {
        try {
            if (client != null) {
                client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            }
        } catch (RuntimeException e) {
            if (e instanceof RedisCommandInterruptedException || e.getCause() instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            } else {
                LOG.warn("shutting down the Redis client failed: {}", e.toString());
            }
        } finally {
            if (shared != null) {
                SharedResources.release(shared);
            }
        }
    }

    private static RedisURI parse(int index, String text, Duration connectTimeout) {
        String shown = mask(text);
        String lower = text.trim().toLowerCase(Locale.ROOT);
        if (!(lower.startsWith("redis://") || lower.startsWith("rediss://") || lower.startsWith("redis-socket://"))) {
            throw new IllegalArgumentException("node " + index + " URI '" + shown + "' has no supported scheme: use "
                    + "redis://host:port, rediss://host:port (TLS) or redis-socket:///path; each node is an independent master "
                    + "(Sentinel and Cluster URIs are not Redlock nodes)");
        }
        RedisURI uri;
        try {
            uri = RedisURI.create(text.trim());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("node " + index + " URI '" + shown + "' is not a valid Redis URI ("
                    + scrub(e.getMessage(), text) + "); expected redis://[[user]:password@]host[:port][/db]");
        }
        if (uri.getSocket() == null && (uri.getHost() == null || uri.getHost().isBlank())) {
            throw new IllegalArgumentException("node " + index + " URI '" + shown + "' has no host; expected redis://host[:port]");
        }
        if (uri.getSocket() == null && (uri.getPort() < 1 || uri.getPort() > 65535)) {
            throw new IllegalArgumentException("node " + index + " URI '" + shown + "' has port " + uri.getPort()
                    + "; a port must be in 1..65535");
        }
        // A handshake that hangs (a port that accepts but does not answer) fails after the connect timeout instead
        // of Lettuce's 60 s default, and the next call connects again.
        uri.setTimeout(connectTimeout);
        // Lettuce 7 gives a URI's password a provider that is not "immediate", which makes its handshake continue
        // off the event loop and race the connection's activation (docs/lettuce-handshake-race.md). The
        // credentials of a URI we parsed are fixed: hand them over as a static provider, which Lettuce resolves
        // at once on the event loop.
        RedisCredentialsProvider provider = uri.getCredentialsProvider();
        if (provider != null && !(provider instanceof RedisCredentialsProvider.ImmediateRedisCredentialsProvider)) {
            RedisCredentials credentials = provider.resolveCredentials().block();
            if (credentials != null) {
                uri.setCredentialsProvider(new StaticCredentialsProvider(credentials));
            }
        }
        return uri;
    }

    /**
     * The URI with any credentials replaced: {@code redis://user:***@host}, or {@code redis://***@host} for a
     * password-only user-info ({@code redis://secret@host} is a password to Lettuce).
     */
    static String mask(String uri) {
        String secret = secret(uri);
        if (secret == null) {
            return uri;
        }
        int scheme = uri.indexOf("://") + 3;
        int at = uri.lastIndexOf('@', authorityEnd(uri, scheme) - 1);
        String userInfo = uri.substring(scheme, at);
        int colon = userInfo.indexOf(':');
        return uri.substring(0, scheme) + (colon >= 0 ? userInfo.substring(0, colon + 1) : "") + "***" + uri.substring(at);
    }

    /** The secret part of the URI's user-info (the password, or the whole user-info without a colon), or null. */
    private static String secret(String uri) {
        int scheme = uri.indexOf("://");
        if (scheme < 0) {
            return null;
        }
        int begin = scheme + 3;
        int at = uri.lastIndexOf('@', authorityEnd(uri, begin) - 1);
        if (at < begin) {
            return null;
        }
        String userInfo = uri.substring(begin, at);
        int colon = userInfo.indexOf(':');
        String secret = colon >= 0 ? userInfo.substring(colon + 1) : userInfo;
        return secret.isEmpty() ? null : secret;
    }

    private static int authorityEnd(String uri, int begin) {
        int end = uri.length();
        for (char c : new char[] {'/', '?', '#'}) {
            int i = uri.indexOf(c, begin);
            if (i >= 0 && i < end) {
                end = i;
            }
        }
        return end;
    }

    /** A parser message with the raw URI and its secret removed. */
    private static String scrub(String message, String uri) {
        if (message == null) {
            return "unparseable";
        }
        String out = message.replace(uri, mask(uri));
        String secret = secret(uri);
        return secret == null ? out : out.replace(secret, "***");
    }

    @Override
    public Mutex mutex(String name) {
        return mutex(name, defaults);
    }

    @Override
    public Mutex mutex(String name, LockOptions options) {
        Objects.requireNonNull(name, "name must not be null");
        Objects.requireNonNull(options, "options must not be null");
        if (name.isBlank()) {
            throw new IllegalArgumentException("lock name must not be blank; give each lock a stable non-empty name, e.g. \"invoice:42\"");
        }
        if (closed.get()) {
            throw new IllegalStateException("Redsync is closed; build a new instance");
        }
        return new MutexImpl(context, options, Target.of(name, keyPrefix + name, options, order(options.shufflePools())));
    }

    private int[] order(boolean shuffle) {
        int n = engine.nodes.length;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (shuffle) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    @Override
    public Lease lock(String name) throws InterruptedException {
        return mutex(name).lock();
    }

    @Override
    public Lease lock(String name, LockOptions options) throws InterruptedException {
        return mutex(name, options).lock();
    }

    @Override
    public CompletableFuture<Lease> lockAsync(String name) {
        return mutex(name).lockAsync();
    }

    @Override
    public CompletableFuture<Lease> lockAsync(String name, LockOptions options) {
        return mutex(name, options).lockAsync();
    }

    @Override
    public <T, E extends Exception> T executeLocked(String name, LockedAction<T, E> action) throws E, InterruptedException {
        return mutex(name).executeLocked(action);
    }

    @Override
    public <T, E extends Exception> T executeLocked(String name, LockOptions options, LockedAction<T, E> action)
            throws E, InterruptedException {
        return mutex(name, options).executeLocked(action);
    }

    @Override
    public boolean awaitConnected(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout must not be null");
        if (closed.get()) {
            throw new IllegalStateException("Redsync is closed; build a new instance");
        }
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative, was " + timeout);
        }
        long nanos = timeout.toNanos();
        CompletableFuture<Void> done = engine.connections.connected(nanos, engine.nodes.length);
        try {
            done.get(nanos + TimeUnit.MILLISECONDS.toNanos(100), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // Never exceptional, and bounded by the same timeout on the timer: nothing to report but the state.
        }
        return engine.connections.allConnected();
    }

    @Override
    public LockOptions defaults() {
        return defaults;
    }

    @Override
    public String keyPrefix() {
        return keyPrefix;
    }

    @Override
    public int nodeCount() {
        return engine.nodes.length;
    }

    @Override
    public int quorum() {
        return engine.quorum;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            // Waiting lock calls fail; their cleanup releases still go out before the connections close.
            context.calls().close(engine);
            for (LockNode node : engine.nodes) {
                try {
                    node.close();
                } catch (RuntimeException e) {
                    LOG.warn("closing node {} failed: {}", node.address(), e.toString());
                }
            }
        } finally {
            shutDown(ownClient, ownResources);
        }
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("Redsync[");
        for (int i = 0; i < engine.nodes.length; i++) {
            s.append(i == 0 ? "" : ", ").append(engine.nodes[i].address());
        }
        return s.append("]").toString();
    }
}
