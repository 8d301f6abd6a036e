package io.redsync.lettuce;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.redsync.spi.AcquireReply;
import io.redsync.spi.KeyState;
import io.redsync.spi.LockNode;
import io.redsync.spi.Ownership;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A {@link LockNode} over one multiplexed Lettuce connection. Scripts run by EVALSHA; after a
 * {@code NOSCRIPT} reply (the server restarted or ran {@code SCRIPT FLUSH}) the same call is repeated
 * as EVAL, which also reloads the script, so callers never see the error.
 *
 * <p>A node built {@linkplain #lazy(RedisClient, RedisURI) from a client and URI} connects on first
 * use and again after a failed connect; it owns and closes that connection. A node built
 * {@linkplain #of(StatefulRedisConnection, String) from a connection} uses it as is and never closes it.
 *
 * @since 0.1.0
 */
public final class LettuceNode implements LockNode {
    private static final Logger LOG = LoggerFactory.getLogger(LettuceNode.class);
    private final RedisClient client;
    private final RedisURI uri;
    private final String address;
    private final boolean ownsConnection;
    /** The established connection; null until the first connect succeeded and its queue drained. */
    private volatile StatefulRedisConnection<String, String> ready;
    /**
     * Guarded by this: the connect in flight (completing with the server's run_id once the queue below has run,
     * or with the connect's failure), and the commands waiting for it in issue order.
     */
    private CompletableFuture<String> connecting;
    /** The server's run_id, learnt on connecting; null when unknown (INFO refused, or a given connection). */
    private volatile String serverId;
    /** Whether the eviction policy was checked (once per node). */
    private volatile boolean evictionChecked;
    private final ArrayDeque<Consumer<StatefulRedisConnection<String, String>>> waiting = new ArrayDeque<>();
    private final ArrayDeque<Consumer<Throwable>> failures = new ArrayDeque<>();
    private boolean closed;
    /** Whether a script has run on this node: the ACL user may run scripts, so an acquire may be a plain SET. */
    private volatile boolean scriptsRan;
    /** Guarded by this: the pub/sub side, opened when the first waiter subscribes. */
    private Subscriptions subscriptions;

    private LettuceNode(RedisClient client, RedisURI uri, StatefulRedisConnection<String, String> connection, String address) {
        this.client = client;
        this.uri = uri;
        this.address = address;
        this.ownsConnection = connection == null;
        this.ready = connection;
    }

    /**
     * A node that connects through {@code client} on first use. The node owns the connection; the client
     * stays the caller's.
     *
     * @param client the client
     * @param uri    the node's URI
     * @return the node
     * @since 0.1.0
     */
    public static LettuceNode lazy(RedisClient client, RedisURI uri) {
        Objects.requireNonNull(client, "client must not be null");
        Objects.requireNonNull(uri, "uri must not be null");
        return new LettuceNode(client, uri, null, addressOf(uri));
    }

    /**
     * A node over an existing connection, which stays the caller's (never closed here).
     *
     * @param connection an open connection with String keys and values
     * @param address    how to name the node in messages (e.g. {@code host:port}); no credentials
     * @return the node
     * @since 0.1.0
     */
    public static LettuceNode of(StatefulRedisConnection<String, String> connection, String address) {
        Objects.requireNonNull(connection, "connection must not be null");
        Objects.requireNonNull(address, "address must not be null");
        return new LettuceNode(null, null, connection, address);
    }

    /**
     * The printable address of a URI: {@code host:port} or the socket path, never the password.
     *
     * @param uri the URI
     * @return the address
     * @since 0.1.0
     */
    public static String addressOf(RedisURI uri) {
        if (uri.getSocket() != null) {
            return uri.getSocket();
        }
        return uri.getHost() + ":" + uri.getPort() + (uri.getDatabase() != 0 ? "/" + uri.getDatabase() : "");
    }

    @Override
    public String address() {
        return address;
    }

    /**
     * Connects now, unless connected or connecting. When the connection is up, and before any queued command is
     * sent, the node asks the server {@code INFO}: its run_id names the server (so two entries reaching one server
     * can be told apart) and its {@code maxmemory-policy} is checked: anything but {@code noeviction} is logged
     * once as a warning, since every lock key has a TTL (volatile-* policies evict live locks) and allkeys-*
     * policies can evict fencing counters. Where the ACL user may not run INFO, both checks are skipped silently.
     *
     * @return completes with the server's run_id (null when unknown) once commands can be sent, or with the
     *         connect's failure
     * @since 0.1.0
     */
    @Override
    public CompletionStage<String> connect() {
        if (ready != null) {
            return CompletableFuture.completedFuture(serverId);
        }
        CompletableFuture<String> inFlight;
        boolean start = false;
        synchronized (this) {
            if (ready != null) {
                return CompletableFuture.completedFuture(serverId);
            }
            if (closed) {
                return CompletableFuture.failedFuture(new IllegalStateException("node " + address + " is closed"));
            }
            if (connecting == null) {
                connecting = new CompletableFuture<>();
                start = true;
            }
            inFlight = connecting;
        }
        if (start) {
            startConnect();
        }
        return inFlight.copy();
    }

    /**
     * The pub/sub channel on which releases of {@code key} are announced.
     *
     * @param key the lock key
     * @return the channel name
     * @since 0.1.0
     */
    public static String channelOf(String key) {
        return "redsync:released:" + key;
    }

    @Override
    public CompletionStage<AcquireReply> acquire(String key, String value, long expiryMillis, boolean refreshIfHeld, String counterKey) {
        // The first acquire of a node is a script even when a plain SET would do: an ACL user that may SET but
        // not run scripts would otherwise take locks it cannot release (they would stay until their TTL). Run
        // as a script, that acquire fails with NOPERM and writes nothing. Once a script has run, SET is safe.
        if (!refreshIfHeld && counterKey == null && scriptsRan) {
            // The common first attempt: plain SET NX PX, as cheap for Redis as a lock can be, and no NOSCRIPT.
            // Only when the key is taken, a PTTL learns the holder's TTL (one more round trip, on contention).
            // A key without a TTL (PTTL -1) is no lock of ours: it may hold another type, which SET NX does not
            // notice. The acquire script then reads it, so a list under the key fails with WRONGTYPE on the first
            // attempt instead of passing for a lock held forever.
            return withConnection(commands -> commands.set(key, value, SetArgs.Builder.nx().px(expiryMillis))
                    .thenCompose(ok -> ok != null ? CompletableFuture.completedFuture(AcquireReply.GRANTED)
                            : commands.pttl(key).thenCompose(pttl -> pttl == -1
                                    ? scriptedAcquire(key, value, expiryMillis, false, null)
                                    : CompletableFuture.completedFuture(AcquireReply.taken(pttl == -2 ? 0 : pttl)))));
        }
        return scriptedAcquire(key, value, expiryMillis, refreshIfHeld, counterKey);
    }

    private CompletionStage<AcquireReply> scriptedAcquire(String key, String value, long expiryMillis, boolean refreshIfHeld,
                                                          String counterKey) {
        String[] keys = counterKey == null ? new String[] {key} : new String[] {key, counterKey};
        return this.<List<Object>>script(Script.ACQUIRE, ScriptOutputType.MULTI, keys, value, Long.toString(expiryMillis),
                        refreshIfHeld ? "1" : "0")
                .thenApply(reply -> {
                    if ((Long) reply.get(0) == 1) {
                        long counter = (Long) reply.get(2);
                        return counter < 0 ? AcquireReply.GRANTED : AcquireReply.granted(counter);
                    }
                    return AcquireReply.taken((Long) reply.get(1));
                });
    }

    @Override
    public CompletionStage<Ownership> release(String key, String value) {
        return this.<Long>script(Script.RELEASE, ScriptOutputType.INTEGER, new String[] {key}, value, channelOf(key),
                        LockNode.announcementOf(value))
                .thenApply(LettuceNode::ownership);
    }

    @Override
    public CompletionStage<Ownership> extend(String key, String value, long expiryMillis, boolean setIfAbsent) {
        return this.<Long>script(Script.EXTEND, ScriptOutputType.INTEGER, new String[] {key}, value, Long.toString(expiryMillis),
                        setIfAbsent ? "1" : "0")
                .thenApply(LettuceNode::ownership);
    }

    @Override
    public CompletionStage<Ownership> fence(String key, String value, String counterKey, long token) {
        return this.<Long>script(Script.FENCE, ScriptOutputType.INTEGER, new String[] {key, counterKey}, value, Long.toString(token))
                .thenApply(LettuceNode::ownership);
    }

    @Override
    public CompletionStage<String> get(String key) {
        return withConnection(commands -> commands.get(key));
    }

    @Override
    public CompletionStage<KeyState> inspect(String key) {
        return this.<List<Object>>script(Script.INSPECT, ScriptOutputType.MULTI, new String[] {key})
                .thenApply(reply -> reply.isEmpty() ? KeyState.ABSENT : new KeyState((String) reply.get(0), (Long) reply.get(1)));
    }

    @Override
    public CompletionStage<Subscription> subscribe(String key, Consumer<String> listener) {
        if (client == null) {
            return CompletableFuture.failedFuture(new UnsupportedOperationException(
                    "node " + address + " was given as a connection; release notifications need a client to open a pub/sub connection"));
        }
        return subscriptions().subscribe(channelOf(key), listener);
    }

    private synchronized Subscriptions subscriptions() {
        if (subscriptions == null) {
            subscriptions = new Subscriptions(client, uri);
        }
        return subscriptions;
    }

    private static Ownership ownership(Long reply) {
        long r = reply;
        return r == 1 ? Ownership.MINE : r == 0 ? Ownership.OTHER : Ownership.ABSENT;
    }

    private <T> CompletionStage<T> script(Script script, ScriptOutputType type, String[] keys, String... args) {
        return withConnection(commands -> {
            CompletionStage<T> first = commands.evalsha(script.sha, type, keys, args);
            // The fallback is sent when the NOSCRIPT reply arrives, so commands issued meanwhile may run
            // before it; the engine therefore sends a node's cleanup release only after the acquire's
            // stage (this one, fallback included) has completed.
            CompletionStage<T> sent = first.exceptionallyCompose(e -> isNoScript(e)
                    ? commands.eval(script.body, type, keys, args)
                    : CompletableFuture.failedFuture(e));
            // Once a script ran the flag stays set: later calls need not watch for it (one stage less per call).
            return scriptsRan ? sent : sent.whenComplete((reply, error) -> {
                if (error == null) {
                    scriptsRan = true;
                }
            });
        });
    }

    private static boolean isNoScript(Throwable e) {
        Throwable t = unwrap(e);
        return t instanceof RedisNoScriptException || (t != null && t.getMessage() != null && t.getMessage().startsWith("NOSCRIPT"));
    }

    private <T> CompletionStage<T> withConnection(Function<RedisAsyncCommands<String, String>, CompletionStage<T>> op) {
        StatefulRedisConnection<String, String> c = ready;
        // Fast path: an established connection (Lettuce reconnects it by itself after network errors).
        if (c != null) {
            return op.apply(c.async());
        }
        CompletableFuture<T> out = new CompletableFuture<>();
        boolean start = false;
        synchronized (this) {
            c = ready;
            if (c == null) {
                if (closed) {
                    return CompletableFuture.failedFuture(new IllegalStateException("node " + address + " is closed"));
                }
                // Commands issued while connecting wait in a FIFO queue. Chaining each on the connect
                // future instead would run them in reverse (CompletableFuture runs dependants as a
                // stack), letting a release overtake the acquire it must follow.
                waiting.add(connection -> {
                    try {
                        op.apply(connection.async()).whenComplete((v, e) -> {
                            if (e == null) {
                                out.complete(v);
                            } else {
                                out.completeExceptionally(e);
                            }
                        });
                    } catch (RuntimeException e) {
                        out.completeExceptionally(e);
                    }
                });
                failures.add(out::completeExceptionally);
                if (connecting == null) {
                    connecting = new CompletableFuture<>();
                    start = true;
                }
            }
        }
        if (c != null) {
            return op.apply(c.async());
        }
        if (start) {
            startConnect();
        }
        return out;
    }

    /** Called by whoever set {@link #connecting}, outside the lock. */
    private void startConnect() {
        Connector.connect(client, () -> client.connectAsync(StringCodec.UTF8, uri)).whenComplete((connection, error) ->
                connected(connection, error == null ? null : explained(error)));
    }

    /** Lettuce's "requires epoll or kqueue" says what is missing, not where to get it. */
    private Throwable explained(Throwable error) {
        Throwable t = unwrap(error);
        if (uri.getSocket() != null && t instanceof IllegalStateException && t.getMessage() != null
                && t.getMessage().contains("requires epoll or kqueue")) {
            return new IllegalStateException("a redis-socket:// node needs Netty's native transport on the class path: add "
                    + "io.netty:netty-transport-native-epoll with classifier linux-x86_64 (or linux-aarch_64), in the version "
                    + "of the Netty you use (on macOS: netty-transport-native-kqueue, osx-x86_64 or osx-aarch_64)", t);
        }
        return error;
    }

    /**
     * Checks the server, then runs the queued commands in order; on failure fails them and lets the next call
     * connect again.
     */
    private void connected(StatefulRedisConnection<String, String> connection, Throwable error) {
        if (error != null) {
            drain(null, error);
            return;
        }
        // Pipelined ahead of the queued commands, so the first EVALSHA finds its script instead of paying a
        // NOSCRIPT round trip. Replies are not awaited; the EVAL fallback covers failures (SCRIPT LOAD is
        // optional in the ACL).
        RedisAsyncCommands<String, String> commands = connection.async();
        for (Script script : Script.ALL) {
            commands.scriptLoad(script.body);
        }
        CompletionStage<String> info;
        try {
            info = commands.info();
        } catch (RuntimeException e) {
            info = CompletableFuture.failedFuture(e);
        }
        info.whenComplete((text, e) -> {
            if (e == null) {
                checkServerInfo(text);
            } else {
                LOG.debug("node {}: INFO refused ({}); the same-server and eviction checks are skipped", address, e.toString());
            }
            drain(connection, null);
        });
    }

    /** Reads the server's run_id and warns once about an eviction policy that can evict lock keys. */
    private void checkServerInfo(String info) {
        String policy = null;
        String maxmemory = null;
        for (String line : info.split("\r?\n")) {
            if (line.startsWith("run_id:")) {
                serverId = line.substring("run_id:".length()).trim();
            } else if (line.startsWith("maxmemory_policy:")) {
                policy = line.substring("maxmemory_policy:".length()).trim();
            } else if (line.startsWith("maxmemory:")) {
                maxmemory = line.substring("maxmemory:".length()).trim();
            }
        }
        if (policy == null || evictionChecked) {
            return;
        }
        evictionChecked = true;
        if (!policy.equals("noeviction")) {
            LOG.warn("node {} has maxmemory-policy {} (maxmemory {}): Redis may evict lock keys, which all have a TTL "
                            + "(volatile-* policies evict them first, and a lease then silently loses nodes), or fencing "
                            + "counters (allkeys-* policies; tokens would repeat); set maxmemory-policy noeviction on lock nodes "
                            + "and keep other data off them", address, policy, maxmemory == null ? "?" : maxmemory);
        }
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private void drain(StatefulRedisConnection<String, String> connection, Throwable error) {
        while (true) {
            Consumer<StatefulRedisConnection<String, String>> next;
            Consumer<Throwable> fail;
            CompletableFuture<String> done = null;
            boolean closeIt = false;
            synchronized (this) {
                next = waiting.poll();
                fail = failures.poll();
                if (next == null) {
                    done = connecting;
                    connecting = null;
                    if (error == null) {
                        if (closed) {
                            closeIt = true;
                        } else {
                            // Set only once the queue is empty, so no later command overtakes a queued one.
                            ready = connection;
                        }
                    }
                }
            }
            if (next == null) {
                if (closeIt) {
                    connection.closeAsync();
                }
                if (done != null) {
                    if (error != null) {
                        done.completeExceptionally(error);
                    } else if (closeIt) {
                        done.completeExceptionally(new IllegalStateException("node " + address + " is closed"));
                    } else {
                        done.complete(serverId);
                    }
                }
                return;
            }
            if (error == null) {
                next.accept(connection);
            } else {
                fail.accept(error);
            }
        }
    }

    @Override
    public void close() {
        StatefulRedisConnection<String, String> open;
        Subscriptions subs;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            open = ready;
            subs = subscriptions;
        }
        if (subs != null) {
            subs.close();
        }
        // A connect still in flight is closed when it completes (see connected()).
        if (ownsConnection && open != null) {
            open.close();
        }
    }

    @Override
    public String toString() {
        return "LettuceNode[" + address + "]";
    }
}
