package io.redsync.testkit;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A node in a Testcontainers-managed {@code redis:7.0} container.
 *
 * <p>This is the only class that names Testcontainers or docker-java types. Testcontainers is an optional
 * dependency: {@link RedisNodes} reaches this class only from {@code docker()} and
 * {@code dockerAvailable()}, so the JVM never loads it, and never fails on the missing classes, for users
 * of process nodes.
 *
 * <p>The container keeps one fixed host port for its whole life, and kill and restart act on the same
 * container, so a restarted node has the same address and, with an append-only {@link Persistence}, its
 * data. Ryuk removes the containers if the JVM dies without closing them.
 */
final class DockerNode extends AbstractNode {
    static final String IMAGE = "redis:7.0";
    private static final int REDIS_PORT = 6379;
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration PROBE_INTERVAL = Duration.ofMillis(50);

    private final GenericContainer<?> container;
    private final int port;
    private final NodeSettings settings;
    private final Object lifecycle = new Object();
    private volatile boolean paused;
    private volatile boolean closed;

    private DockerNode(int index, GenericContainer<?> container, int port, NodeSettings settings) {
        super(index, container.getHost(), settings.password());
        this.container = container;
        this.port = port;
        this.settings = settings;
    }

    /** True when Testcontainers finds a reachable Docker engine. */
    static boolean available() {
        return DockerClientFactory.instance().isDockerAvailable();
    }

    /** Starts {@code count} containers one after another; on failure removes those already started. */
    static List<AbstractNode> startAll(int count, NodeSettings settings) {
        List<AbstractNode> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                int hostPort = ProcessNode.freePort();
                List<String> command = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(REDIS_PORT), "--dir", "/data"));
                command.addAll(settings.commonArgs());
                if (settings.password() != null) {
                    command.add("--requirepass");
                    command.add(settings.password());
                }
                GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse(IMAGE))
                        .withExposedPorts(REDIS_PORT)
                        .withCommand(command.toArray(new String[0]));
                // A fixed host port, so that a restarted container is reachable at the same address.
                container.setPortBindings(List.of(hostPort + ":" + REDIS_PORT));
                container.start();
                DockerNode node = new DockerNode(i, container, hostPort, settings);
                nodes.add(node);
                node.awaitReady();
            }
            return nodes;
        } catch (RuntimeException e) {
            nodes.forEach(AbstractNode::destroy);
            throw e;
        }
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public long pid() {
        return -1;
    }

    @Override
    public boolean isRunning() {
        if (closed) {
            return false;
        }
        try {
            Boolean running = inspect().getState().getRunning();
            return running != null && running;
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public boolean isPaused() {
        return paused && isRunning();
    }

    @Override
    public void stop() {
        synchronized (lifecycle) {
            requireOpen();
            if (!isRunning()) {
                return;
            }
            if (paused) {
                client().unpauseContainerCmd(id()).exec();
                paused = false;
            }
            String[] shutdown = settings.persistence() == Persistence.NONE
                    ? new String[] {"SHUTDOWN", "NOSAVE"} : new String[] {"SHUTDOWN"};
            try (RespClient c = RespClient.connect(host(), port, password(), RespClient.DEFAULT_TIMEOUT)) {
                c.call(shutdown);
            } catch (IOException | RedisReplyException e) {
                // Expected: a successful SHUTDOWN closes the connection without a reply.
            }
            if (!awaitStopped()) {
                client().stopContainerCmd(id()).exec();
                awaitStopped();
            }
        }
    }

    @Override
    public void kill() {
        synchronized (lifecycle) {
            requireOpen();
            killContainer();
        }
    }

    @Override
    public void restart() {
        synchronized (lifecycle) {
            requireOpen();
            killContainer();
            client().startContainerCmd(id()).exec();
            awaitReady();
        }
    }

    @Override
    public void pause() {
        synchronized (lifecycle) {
            requireOpen();
            if (!isRunning()) {
                throw new IllegalStateException(describe() + " is not running, so it cannot be paused; call restart() first");
            }
            if (!paused) {
                client().pauseContainerCmd(id()).exec();
                paused = true;
            }
        }
    }

    @Override
    public void resume() {
        synchronized (lifecycle) {
            requireOpen();
            if (paused) {
                client().unpauseContainerCmd(id()).exec();
                paused = false;
            }
        }
    }

    @Override
    void checkCallable() {
        if (closed) {
            throw new IllegalStateException(describe() + " is closed: its RedisNodes was closed");
        }
        if (paused) {
            throw new IllegalStateException(describe() + " is paused, so it would not answer; call resume() first");
        }
        if (!isRunning()) {
            throw new IllegalStateException(describe() + " is not running (stopped or killed); call restart() first");
        }
    }

    @Override
    void destroy() {
        synchronized (lifecycle) {
            closed = true;
            try {
                container.stop();
            } catch (RuntimeException e) {
                // close() must not fail; Ryuk removes the container when the JVM exits.
            }
            Reaper.releasePort(port);
        }
    }

    private void killContainer() {
        if (paused) {
            // A paused container cannot be killed by Docker; unpause and kill at once.
            client().unpauseContainerCmd(id()).exec();
            paused = false;
        }
        if (isRunning()) {
            client().killContainerCmd(id()).exec();
            if (!awaitStopped()) {
                throw new IllegalStateException(describe() + ": container " + id() + " still runs " + WAIT + " after docker kill");
            }
        }
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + settings.startupTimeout().toNanos();
        String lastProblem = "no answer yet";
        while (System.nanoTime() - deadline < 0) {
            try (RespClient c = RespClient.connect(host(), port, password(), Duration.ofMillis(500))) {
                c.call("PING");
                return;
            } catch (IOException | RedisReplyException e) {
                lastProblem = e.getMessage();
            }
            pauseBetweenProbes(PROBE_INTERVAL);
        }
        throw new IllegalStateException(describe() + ": the " + IMAGE + " container did not answer PING within "
                + settings.startupTimeout() + " (last problem: " + lastProblem + "); its log:\n" + container.getLogs());
    }

    private boolean awaitStopped() {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() - deadline < 0) {
            if (!isRunning()) {
                return true;
            }
            pauseBetweenProbes(PROBE_INTERVAL);
        }
        return false;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(describe() + " is closed: its RedisNodes was closed, start new nodes instead");
        }
    }

    private InspectContainerResponse inspect() {
        return client().inspectContainerCmd(id()).exec();
    }

    private DockerClient client() {
        return container.getDockerClient();
    }

    private String id() {
        return container.getContainerId();
    }
}
