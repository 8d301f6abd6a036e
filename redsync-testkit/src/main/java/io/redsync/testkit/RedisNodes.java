package io.redsync.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * N independent Redis servers for tests, each a real {@code redis-server} process on its own free
 * {@code 127.0.0.1} port and in its own temp dir, with controls to stop, kill, restart and pause each one.
 *
 * <pre>{@code
 * try (RedisNodes redis = RedisNodes.start(3)) {
 *     List<String> uris = redis.uris();          // connect your client to these
 *     redis.node(1).kill();                      // one master crashes
 *     redis.node(1).restart();                   // and comes back on the same port
 * }
 * }</pre>
 *
 * <p>Whoever starts nodes closes them; a JVM shutdown hook also kills every node still running when the
 * JVM exits normally, so an aborted test run leaves no {@code redis-server} behind.
 *
 * <p>The executable is {@link #binary() resolved} once per JVM: the {@code REDIS_SERVER} environment
 * variable, else {@code redis-server} on the {@code PATH}, else the Redis 6.2 binary inside the
 * {@code com.github.codemonstur:embedded-redis} jar.
 *
 * @since 0.1.0
 */
public final class RedisNodes implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RedisNodes.class);

    private static final Object BINARY_LOCK = new Object();
    private static RedisBinary binary;

    private static final Object DOCKER_LOCK = new Object();
    private static Boolean dockerAvailable;

    private final List<AbstractNode> nodes;
    private final AtomicBoolean closed = new AtomicBoolean();

    private RedisNodes(List<AbstractNode> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    /**
     * Starts {@code count} process nodes with the defaults: no persistence, no password, 10 second startup
     * timeout. Returns once every node answers {@code PING}.
     *
     * @param count how many nodes, at least 1
     * @return the running nodes; close them when done
     * @throws IllegalArgumentException if {@code count < 1}
     * @throws IllegalStateException if no {@code redis-server} can be found, or a node does not start (the
     *     message names the node, its port and the end of its log); nodes already started are killed
     * @since 0.1.0
     */
    public static RedisNodes start(int count) {
        return builder().count(count).start();
    }

    /**
     * A builder for nodes with persistence, a password, extra configuration or another binary.
     *
     * @return a new builder for one node
     * @since 0.1.0
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Whether {@link #docker(int)} can work here: Testcontainers is on the classpath and finds a Docker
     * engine. Never throws. The answer is computed once per JVM, as Testcontainers' own check is.
     *
     * @return true when Docker nodes can be started
     * @since 0.1.0
     */
    public static boolean dockerAvailable() {
        synchronized (DOCKER_LOCK) {
            if (dockerAvailable == null) {
                boolean available;
                try {
                    available = DockerNode.available();
                } catch (Throwable t) {
                    // NoClassDefFoundError without Testcontainers on the classpath, or any failure
                    // finding an engine: all mean "no".
                    available = false;
                }
                dockerAvailable = available;
            }
            return dockerAvailable;
        }
    }

    /**
     * Starts {@code count} nodes as {@code redis:7.0} containers through Testcontainers, for machines
     * without a usable {@code redis-server}. Each node keeps one host port for its life; {@code kill} is
     * {@code docker kill}, {@code pause} is {@code docker pause}, and {@code restart} starts the same
     * container again. {@link RedisNode#pid()} is {@code -1}.
     *
     * @param count how many nodes, at least 1
     * @return the running nodes; close them when done
     * @throws IllegalArgumentException if {@code count < 1}
     * @throws IllegalStateException if Testcontainers is not on the classpath or Docker is not reachable
     * @since 0.1.0
     */
    public static RedisNodes docker(int count) {
        requireCount(count);
        if (!dockerAvailable()) {
            throw new IllegalStateException("RedisNodes.docker() needs Docker, which is not available here: add "
                    + "org.testcontainers:testcontainers to the test classpath and make sure a Docker engine is "
                    + "reachable (docker info), or use RedisNodes.start() with a local redis-server. "
                    + "Guard such tests with RedisNodes.dockerAvailable().");
        }
        NodeSettings settings = new NodeSettings(null, Persistence.NONE, List.of(), null, Builder.DEFAULT_STARTUP_TIMEOUT);
        return new RedisNodes(DockerNode.startAll(count, settings));
    }

    /**
     * The {@code redis-server} that process nodes run, resolved once per JVM: {@code REDIS_SERVER} (which
     * must name an executable file), else {@code redis-server} on the {@code PATH}, else the binary in the
     * embedded-redis jar, extracted once to {@code java.io.tmpdir}. Logs the choice once, at INFO.
     *
     * @return the binary
     * @throws IllegalStateException if {@code REDIS_SERVER} is set but unusable, or no source yields a
     *     working binary; the message says how to install one
     * @since 0.1.0
     */
    public static RedisBinary binary() {
        synchronized (BINARY_LOCK) {
            if (binary == null) {
                binary = BinaryResolver.resolve(System.getenv());
                LOG.info("redsync-testkit runs redis-server {} from {}: {}", binary.version(), binary.source(), binary.path());
            }
            return binary;
        }
    }

    /**
     * How many nodes there are.
     *
     * @return the node count
     * @since 0.1.0
     */
    public int size() {
        return nodes.size();
    }

    /**
     * The node at {@code index}.
     *
     * @param index from 0 to {@code size() - 1}
     * @return the node
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     * @since 0.1.0
     */
    public RedisNode node(int index) {
        Objects.checkIndex(index, nodes.size());
        return nodes.get(index);
    }

    /**
     * All nodes, in index order.
     *
     * @return an unmodifiable list
     * @since 0.1.0
     */
    public List<RedisNode> nodes() {
        return Collections.unmodifiableList(nodes);
    }

    /**
     * Every node's {@link RedisNode#uri() URI}, in index order.
     *
     * @return an unmodifiable list such as {@code [redis://127.0.0.1:41235, redis://127.0.0.1:39871]}
     * @since 0.1.0
     */
    public List<String> uris() {
        List<String> uris = new ArrayList<>(nodes.size());
        for (RedisNode node : nodes) {
            uris.add(node.uri());
        }
        return Collections.unmodifiableList(uris);
    }

    /**
     * {@code FLUSHALL} on every node that is running and not paused; others are skipped, since they hold
     * no data a test could see (stopped) or cannot answer (paused), and a cleanup step must not fail on
     * them.
     *
     * @throws RedisReplyException if a node refuses {@code FLUSHALL}
     * @since 0.1.0
     */
    public void flushAll() {
        for (AbstractNode node : nodes) {
            if (node.isRunning() && !node.isPaused()) {
                node.flush();
            }
        }
    }

    /**
     * Kills every node (paused ones too) and deletes their temp dirs. Idempotent, and never throws: nodes
     * already killed or stopped are fine. Afterwards the nodes report not running, and their lifecycle
     * methods and commands throw {@link IllegalStateException}.
     *
     * @since 0.1.0
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            for (AbstractNode node : nodes) {
                node.destroy();
            }
        }
    }

    /**
     * Lists the nodes, e.g. {@code RedisNodes[redis://127.0.0.1:41235, redis://127.0.0.1:39871]}.
     *
     * @return the description
     * @since 0.1.0
     */
    @Override
    public String toString() {
        return "RedisNodes" + uris();
    }

    private static void requireCount(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be >= 1, was " + count);
        }
    }

    /**
     * Options for process nodes; every option has a default, so {@code builder().start()} starts one node.
     * A builder may start several independent sets of nodes.
     *
     * @since 0.1.0
     */
    public static final class Builder {
        static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(10);

        /** Set by the testkit itself; letting users override them would break addressing or cleanup. */
        private static final Set<String> RESERVED = Set.of("port", "bind", "dir", "daemonize", "logfile");

        private int count = 1;
        private Persistence persistence = Persistence.NONE;
        private Path binary;
        private final List<String> extraArgs = new ArrayList<>();
        private String configuredPassword;
        private String password;
        private Duration startupTimeout = DEFAULT_STARTUP_TIMEOUT;

        private Builder() {}

        /**
         * How many nodes to start; default 1.
         *
         * @param n at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code n < 1}
         * @since 0.1.0
         */
        public Builder count(int n) {
            requireCount(n);
            this.count = n;
            return this;
        }

        /**
         * How nodes persist data across kill and restart; default {@link Persistence#NONE}.
         *
         * @param p the mode
         * @return this builder
         * @since 0.1.0
         */
        public Builder persistence(Persistence p) {
            this.persistence = Objects.requireNonNull(p, "persistence");
            return this;
        }

        /**
         * Runs this executable instead of the {@link RedisNodes#binary() resolved} one.
         *
         * @param redisServer path of a {@code redis-server} executable, checked at {@link #start()}
         * @return this builder
         * @since 0.1.0
         */
        public Builder binary(Path redisServer) {
            this.binary = Objects.requireNonNull(redisServer, "redisServer");
            return this;
        }

        /**
         * Adds a configuration directive, passed as {@code --name value}, e.g. {@code config("maxmemory",
         * "1mb")}. May be called repeatedly, also with the same name (Redis then applies the last, or all
         * for multi-valued directives). {@code config("requirepass", pw)} also makes the testkit's own
         * client authenticate with {@code pw}, like {@link #password(String)}.
         *
         * @param name the directive without dashes, e.g. {@code "maxmemory"}
         * @param value its value, passed as one argument
         * @return this builder
         * @throws IllegalArgumentException if the name is blank, starts with a dash, or is one the testkit
         *     sets itself ({@code port}, {@code bind}, {@code dir}, {@code daemonize}, {@code logfile})
         * @since 0.1.0
         */
        public Builder config(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (name.isBlank() || name.startsWith("-")) {
                throw new IllegalArgumentException("config name must be a directive without dashes, like config(\"maxmemory\", \"1mb\"), was '" + name + "'");
            }
            String lower = name.toLowerCase(Locale.ROOT);
            if (RESERVED.contains(lower)) {
                throw new IllegalArgumentException("config(\"" + name + "\", ...) is not allowed: the testkit sets " + lower
                        + " itself so that it can address, restart and clean up each node");
            }
            if (lower.equals("requirepass")) {
                configuredPassword = value;
            }
            extraArgs.add("--" + name);
            extraArgs.add(value);
            return this;
        }

        /**
         * Protects the nodes with a password ({@code requirepass}); the testkit's own client authenticates
         * with it and {@link RedisNode#uri()} carries it as {@code redis://:password@host:port}.
         *
         * @param pw the password, not empty
         * @return this builder
         * @throws IllegalArgumentException if {@code pw} is empty
         * @since 0.1.0
         */
        public Builder password(String pw) {
            Objects.requireNonNull(pw, "pw");
            if (pw.isEmpty()) {
                throw new IllegalArgumentException("password must not be empty; to run without a password, do not call password()");
            }
            this.password = pw;
            return this;
        }

        /**
         * How long each node may take to answer {@code PING} after it is started or restarted; default 10
         * seconds.
         *
         * @param d a positive duration
         * @return this builder
         * @throws IllegalArgumentException if {@code d} is zero or negative
         * @since 0.1.0
         */
        public Builder startupTimeout(Duration d) {
            Objects.requireNonNull(d, "startupTimeout");
            if (d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException("startupTimeout must be positive, was " + d);
            }
            this.startupTimeout = d;
            return this;
        }

        /**
         * Starts the nodes: all processes are launched first and then awaited, so N nodes take about as
         * long as one. Returns once every node answers {@code PING}. A node whose port was taken by another
         * process in the meantime moves to another free port.
         *
         * @return the running nodes; close them when done
         * @throws IllegalArgumentException if {@code password()} and {@code config("requirepass", ...)}
         *     disagree
         * @throws IllegalStateException if no {@code redis-server} can be found, the given binary is not
         *     executable, or a node does not start within the startup timeout (the message names the node,
         *     its port and the end of its log); nodes already started are killed and their dirs deleted
         * @since 0.1.0
         */
        public RedisNodes start() {
            String effectivePassword = password != null ? password : configuredPassword;
            if (password != null && configuredPassword != null && !password.equals(configuredPassword)) {
                throw new IllegalArgumentException("password() and config(\"requirepass\", ...) set different passwords; set only one");
            }
            List<String> args = new ArrayList<>(extraArgs);
            if (password != null && configuredPassword == null) {
                args.add("--requirepass");
                args.add(password);
            }
            NodeSettings settings = new NodeSettings(executable(), persistence, args, effectivePassword, startupTimeout);

            List<ProcessNode> started = new ArrayList<>();
            try {
                for (int i = 0; i < count; i++) {
                    started.add(ProcessNode.launch(i, settings));
                }
                for (ProcessNode node : started) {
                    node.awaitStartup();
                }
            } catch (RuntimeException | Error e) {
                for (ProcessNode node : started) {
                    node.destroy();
                }
                throw e;
            }
            return new RedisNodes(new ArrayList<>(started));
        }

        private Path executable() {
            if (binary == null) {
                return RedisNodes.binary().path();
            }
            Path path = binary.toAbsolutePath();
            if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
                throw new IllegalStateException("builder().binary(" + path + ") is not an executable file: pass the path of a redis-server executable");
            }
            return path;
        }
    }
}
