package io.redsync.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A TCP proxy in front of one Redis node that injects network faults between clients and that node:
 * latency, a blackhole (bytes are accepted but held) and a cut (connections closed, new ones refused).
 * It listens on {@code 127.0.0.1} on a free port; point the client at {@link #uri()} instead of the node's.
 *
 * <pre>{@code
 * try (RedisNodes redis = RedisNodes.start(3); FaultProxy proxy = FaultProxy.to(redis.node(0))) {
 *     connect(proxy.uri(), redis.uris().get(1), redis.uris().get(2));
 *     proxy.latency(Duration.ofMillis(200));   // a slow link to node 0
 *     proxy.cut();                             // node 0 unreachable: connections reset, connects refused
 *     proxy.heal();                            // back to normal on the same port
 * }
 * }</pre>
 *
 * <p>Each connection is forwarded by two threads per direction (one reads, one writes), so a delayed or held
 * chunk never delays the reading of later ones, and bytes keep their order in each direction, as TCP keeps
 * them. Faults apply to the bytes in flight too: a chunk read before {@link #blackhole()} is held if it has
 * not been written yet. The node itself is untouched: use {@link RedisNode#pause()} or
 * {@link RedisNode#kill()} for faults of the server.
 *
 * <p>All methods are thread-safe. The proxy does not know the Redis protocol, so it works with passwords
 * and TLS alike (the node's password is not part of {@link #uri()}).
 *
 * @since 0.1.0
 */
public final class FaultProxy implements AutoCloseable {
    private static final int CHUNK = 16 * 1024;
    /** Forwarding threads need little stack; a test may open hundreds of connections. */
    private static final long STACK_BYTES = 256 * 1024;

    private final String targetHost;
    private final int targetPort;
    private final int port;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Object state = new Object();

    /** Guarded by state. */
    private ServerSocket listener;
    /** Guarded by state: the thread accepting on {@link #listener}. */
    private Thread acceptor;
    /** Guarded by state. */
    private long toServerNanos;
    /** Guarded by state. */
    private long toClientNanos;
    /** Guarded by state. */
    private boolean blackholed;
    /** Guarded by state. */
    private boolean cut;
    /** Guarded by state. */
    private boolean closed;

    private FaultProxy(String targetHost, int targetPort) {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        try {
            ServerSocket socket = bind(0);
            this.port = socket.getLocalPort();
            synchronized (state) {
                startAccepting(socket);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on a free 127.0.0.1 port for a proxy to " + targetHost + ":" + targetPort, e);
        }
    }

    /**
     * Starts a proxy forwarding to {@code host:port}, without faults.
     *
     * @param host the target host
     * @param port the target port
     * @return the running proxy; close it when done
     * @throws IllegalArgumentException if {@code port} is not in 1..65535
     * @throws UncheckedIOException if no local port can be bound
     * @since 0.1.0
     */
    public static FaultProxy to(String host, int port) {
        Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be in 1..65535, was " + port);
        }
        return new FaultProxy(host, port);
    }

    /**
     * Starts a proxy forwarding to a node; it keeps forwarding to the node's port across
     * {@link RedisNode#restart()}.
     *
     * @param node the node
     * @return the running proxy; close it when done
     * @throws UncheckedIOException if no local port can be bound
     * @since 0.1.0
     */
    public static FaultProxy to(RedisNode node) {
        Objects.requireNonNull(node, "node");
        return to(node.host(), node.port());
    }

    /**
     * The port the proxy listens on, on {@code 127.0.0.1}; it stays the same across {@link #cut()} and
     * {@link #heal()}.
     *
     * @return the port
     * @since 0.1.0
     */
    public int port() {
        return port;
    }

    /**
     * {@code redis://127.0.0.1:port} for clients to connect through the proxy. Add the node's password
     * yourself if it has one.
     *
     * @return the URI
     * @since 0.1.0
     */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /**
     * How many client connections are open through the proxy.
     *
     * @return the count
     * @since 0.1.0
     */
    public int connections() {
        return links.size();
    }

    /**
     * Delays every chunk by {@code oneWay} in each direction, so a round trip takes {@code 2 × oneWay} more.
     * Applies to bytes already in flight; {@link Duration#ZERO} removes the latency.
     *
     * @param oneWay zero or positive
     * @return this proxy
     * @throws IllegalArgumentException if {@code oneWay} is negative
     * @since 0.1.0
     */
    public FaultProxy latency(Duration oneWay) {
        return latency(oneWay, oneWay);
    }

    /**
     * Delays chunks towards the server by {@code toServer} and replies towards the client by {@code toClient}.
     * Delaying only replies models a command that runs at once but whose answer comes late.
     *
     * @param toServer delay of client-to-server bytes, zero or positive
     * @param toClient delay of server-to-client bytes, zero or positive
     * @return this proxy
     * @throws IllegalArgumentException if a delay is negative
     * @since 0.1.0
     */
    public FaultProxy latency(Duration toServer, Duration toClient) {
        long up = nonNegative("toServer", toServer);
        long down = nonNegative("toClient", toClient);
        synchronized (state) {
            toServerNanos = up;
            toClientNanos = down;
            state.notifyAll();
        }
        return this;
    }

    /**
     * Holds all bytes in both directions without closing anything, as a partition that drops packets does:
     * connections stay open, commands get no answer, and new connections are accepted but hear nothing.
     * {@link #heal()} delivers the held bytes in order, as TCP retransmission would after a short partition.
     *
     * @return this proxy
     * @since 0.1.0
     */
    public FaultProxy blackhole() {
        synchronized (state) {
            blackholed = true;
        }
        return this;
    }

    /**
     * Closes every connection through the proxy (bytes not yet forwarded are dropped) and refuses new ones
     * until {@link #heal()}: clients see their connection reset and reconnects fail, as when a node is
     * unreachable.
     *
     * @return this proxy
     * @since 0.1.0
     */
    public FaultProxy cut() {
        disconnect(false);
        return this;
    }

    /**
     * Removes every fault: no latency, held bytes are delivered, and after a {@link #cut()} the proxy
     * accepts connections again on the same port.
     *
     * @return this proxy
     * @throws UncheckedIOException if the port cannot be bound again after a cut (another process took it)
     * @throws IllegalStateException if the proxy was closed
     * @since 0.1.0
     */
    public FaultProxy heal() {
        synchronized (state) {
            if (closed) {
                throw new IllegalStateException("proxy on port " + port + " is closed; start a new one");
            }
            toServerNanos = 0;
            toClientNanos = 0;
            blackholed = false;
            if (cut) {
                try {
                    startAccepting(bind(port));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot listen on 127.0.0.1:" + port + " again after cut()", e);
                }
                cut = false;
            }
            state.notifyAll();
        }
        return this;
    }

    /**
     * Stops listening and closes every connection. Idempotent.
     *
     * @since 0.1.0
     */
    @Override
    public void close() {
        disconnect(true);
    }

    /** Stops listening and closes every link: for good, or until {@link #heal()}. */
    private void disconnect(boolean forGood) {
        ServerSocket old;
        Thread oldAcceptor;
        synchronized (state) {
            if (forGood) {
                closed = true;
            } else {
                cut = true;
            }
            old = listener;
            oldAcceptor = acceptor;
            listener = null;
            acceptor = null;
            state.notifyAll();
        }
        closeQuietly(old);
        // A thread blocked in accept() keeps the listening socket open in the kernel until it wakes up, so
        // connects would still succeed for a moment: wait for it, so that connects are refused on return.
        if (oldAcceptor != null) {
            try {
                oldAcceptor.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Link link : links) {
            link.close();
        }
    }

    /**
     * Describes the proxy, e.g. {@code FaultProxy[127.0.0.1:40211 -> 127.0.0.1:6379, cut]}.
     *
     * @return the description
     * @since 0.1.0
     */
    @Override
    public String toString() {
        synchronized (state) {
            String faults = (cut ? ", cut" : "") + (blackholed ? ", blackhole" : "")
                    + (toServerNanos + toClientNanos > 0 ? ", latency " + toServerNanos / 1_000_000 + "/" + toClientNanos / 1_000_000 + " ms" : "");
            return "FaultProxy[127.0.0.1:" + port + " -> " + targetHost + ":" + targetPort + faults + "]";
        }
    }

    /** Listens on 127.0.0.1; SO_REUSEADDR so that heal() can take the same port right after cut(). */
    private static ServerSocket bind(int port) throws IOException {
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return socket;
    }

    /** Guarded by state. */
    private void startAccepting(ServerSocket socket) {
        listener = socket;
        acceptor = spawn("fault-proxy-accept-" + port, () -> {
            while (true) {
                Socket client;
                try {
                    client = socket.accept();
                } catch (IOException e) {
                    return; // closed by cut() or close()
                }
                connect(client);
            }
        });
    }

    private void connect(Socket client) {
        Socket server = new Socket();
        try {
            client.setTcpNoDelay(true);
            server.setTcpNoDelay(true);
            server.connect(new InetSocketAddress(targetHost, targetPort), 5_000);
        } catch (IOException e) {
            // The node is down: the client sees its connection closed, as it would see a refusal.
            closeQuietly(client);
            closeQuietly(server);
            return;
        }
        Link link = new Link(client, server);
        links.add(link);
        synchronized (state) {
            if (cut || closed) {
                link.close();
                return;
            }
        }
        link.start();
    }

    /** Blocks until {@code chunk} may be written; false when the link closed meanwhile. */
    private boolean awaitRelease(Chunk chunk, boolean toServer, Link link) throws InterruptedException {
        synchronized (state) {
            while (true) {
                if (link.closed) {
                    return false;
                }
                if (!blackholed) {
                    long due = chunk.readAt + (toServer ? toServerNanos : toClientNanos);
                    long wait = due - System.nanoTime();
                    if (wait <= 0) {
                        return true;
                    }
                    TimeUnit.NANOSECONDS.timedWait(state, wait);
                } else {
                    state.wait();
                }
            }
        }
    }

    private static long nonNegative(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative()) {
            throw new IllegalArgumentException(name + " latency must be >= 0, was " + d);
        }
        return d.toNanos();
    }

    private static Thread spawn(String name, Runnable body) {
        Thread thread = new Thread(null, body, name, STACK_BYTES);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private record Chunk(byte[] bytes, long readAt) {
    }

    /** One client connection and its upstream connection to the node. */
    private final class Link {
        private final Socket client;
        private final Socket server;
        private volatile boolean closed;

        Link(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }

        void start() {
            pump(client, server, true);
            pump(server, client, false);
        }

        private void pump(Socket from, Socket to, boolean toServer) {
            LinkedBlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
            String name = "fault-proxy-" + port + (toServer ? "-up" : "-down");
            spawn(name + "-read", () -> {
                byte[] buf = new byte[CHUNK];
                try (InputStream in = from.getInputStream()) {
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        queue.add(new Chunk(Arrays.copyOf(buf, n), System.nanoTime()));
                    }
                } catch (IOException ignored) {
                    // reset or closed
                }
                queue.add(new Chunk(null, System.nanoTime())); // end of stream, after the bytes before it
            });
            spawn(name + "-write", () -> {
                try {
                    OutputStream out = to.getOutputStream();
                    while (true) {
                        Chunk chunk = queue.poll(1, TimeUnit.SECONDS);
                        if (closed) {
                            return;
                        }
                        if (chunk == null) {
                            continue;
                        }
                        if (!awaitRelease(chunk, toServer, this)) {
                            return;
                        }
                        if (chunk.bytes() == null) {
                            break;
                        }
                        out.write(chunk.bytes());
                        out.flush();
                    }
                } catch (IOException | InterruptedException ignored) {
                    // the other side is gone
                }
                close();
            });
        }

        void close() {
            if (closed) {
                return;
            }
            closed = true;
            links.remove(this);
            closeQuietly(client);
            closeQuietly(server);
            synchronized (state) {
                state.notifyAll();
            }
        }
    }
}
