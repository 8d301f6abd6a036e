package io.redsync.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A node backed by a local {@code redis-server} child process in its own temp dir. */
final class ProcessNode extends AbstractNode {
    static final String HOST = "127.0.0.1";

    /** How many ports a node tries when another process takes its port between probe and bind. */
    static final int MAX_PORT_ATTEMPTS = 5;

    /** Lines of redis.log quoted in a startup failure: enough for the fatal error and its context. */
    private static final int LOG_TAIL_LINES = 20;

    /** Bound for a graceful exit after SHUTDOWN or SIGTERM before escalating to SIGKILL. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    /** Bound for a SIGKILLed process to disappear; the kernel normally needs microseconds. */
    private static final Duration KILL_WAIT = Duration.ofSeconds(10);
    private static final Duration PROBE_TIMEOUT = Duration.ofMillis(250);
    private static final Duration PROBE_INTERVAL = Duration.ofMillis(10);

    private static final Pattern PROCESS_ID = Pattern.compile("(?m)^process_id:(\\d+)");

    private final NodeSettings settings;
    private final Object lifecycle = new Object();
    private final Path dir;
    private final Path log;

    private volatile int port;
    private volatile Process process;
    private volatile boolean paused;
    private volatile boolean closed;

    private ProcessNode(int index, NodeSettings settings, Path dir) {
        super(index, HOST, settings.password());
        this.settings = settings;
        this.dir = dir;
        this.log = dir.resolve("redis.log");
    }

    /** Creates the node's temp dir, picks a free port and launches the process without waiting for it. */
    static ProcessNode launch(int index, NodeSettings settings) {
        Path dir;
        try {
            dir = Files.createTempDirectory("redsync-testkit-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp dir for redis-server node " + index + " in java.io.tmpdir: " + e.getMessage(), e);
        }
        ProcessNode node = new ProcessNode(index, settings, dir);
        Reaper.register(node);
        try {
            node.port = freePort();
            node.process = node.startProcess();
        } catch (RuntimeException e) {
            node.destroy();
            throw e;
        }
        return node;
    }

    /**
     * Waits until the launched process answers PING; when it lost its port to another process, moves to a
     * new port and tries again, up to {@link #MAX_PORT_ATTEMPTS} ports.
     */
    void awaitStartup() {
        for (int attempt = 1; ; attempt++) {
            try {
                awaitReady(process);
                return;
            } catch (StartFailure failure) {
                if (!failure.portTaken || attempt >= MAX_PORT_ATTEMPTS) {
                    throw new IllegalStateException(failure.getMessage() + (failure.portTaken
                            ? " (gave up after " + attempt + " ports; something on this machine keeps taking free ports)" : ""));
                }
                synchronized (lifecycle) {
                    killProcess();
                    Reaper.releasePort(port);
                    port = freePort();
                    process = startProcess();
                }
            }
        }
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    @Override
    public boolean isRunning() {
        Process p = process;
        return p != null && p.isAlive();
    }

    @Override
    public boolean isPaused() {
        return paused && isRunning();
    }

    @Override
    public void stop() {
        synchronized (lifecycle) {
            requireOpen();
            Process p = process;
            if (p == null || !p.isAlive()) {
                return;
            }
            if (paused) {
                // A stopped process cannot read SHUTDOWN; SIGCONT first so the shutdown is still graceful.
                signal("CONT");
                paused = false;
            }
            String[] shutdown = settings.persistence() == Persistence.NONE
                    ? new String[] {"SHUTDOWN", "NOSAVE"} : new String[] {"SHUTDOWN"};
            try (RespClient client = RespClient.connect(HOST, port, password(), RespClient.DEFAULT_TIMEOUT)) {
                client.call(shutdown);
            } catch (IOException | RedisReplyException e) {
                // Expected: a successful SHUTDOWN closes the connection without a reply. On a real refusal
                // the process stays alive and the SIGTERM below takes over.
            }
            if (!waitFor(p, STOP_GRACE)) {
                p.destroy();
                if (!waitFor(p, STOP_GRACE)) {
                    killProcess();
                }
            }
        }
    }

    @Override
    public void kill() {
        synchronized (lifecycle) {
            requireOpen();
            killProcess();
        }
    }

    @Override
    public void restart() {
        synchronized (lifecycle) {
            requireOpen();
            killProcess();
            Process p = startProcess();
            process = p;
            try {
                awaitReady(p);
            } catch (StartFailure failure) {
                killProcess();
                throw new IllegalStateException(failure.getMessage() + (failure.portTaken
                        ? " (another process took the port while the node was down; restart keeps the port, so it cannot move)" : ""));
            }
        }
    }

    @Override
    public void pause() {
        synchronized (lifecycle) {
            requireOpen();
            if (!isRunning()) {
                throw new IllegalStateException(describe() + " is not running, so it cannot be paused; call restart() first");
            }
            if (paused) {
                return;
            }
            signal("STOP");
            paused = true;
            awaitProcState(true);
        }
    }

    @Override
    public void resume() {
        synchronized (lifecycle) {
            requireOpen();
            if (!paused) {
                return;
            }
            if (isRunning()) {
                signal("CONT");
                awaitProcState(false);
            }
            paused = false;
        }
    }

    @Override
    void checkCallable() {
        if (closed) {
            throw new IllegalStateException(describe() + " is closed: its RedisNodes was closed");
        }
        if (!isRunning()) {
            throw new IllegalStateException(describe() + " is not running (stopped or killed); call restart() first");
        }
        if (paused) {
            throw new IllegalStateException(describe() + " is paused, so it would not answer; call resume() first");
        }
    }

    @Override
    void destroy() {
        synchronized (lifecycle) {
            closed = true;
            try {
                killProcess();
            } catch (RuntimeException e) {
                // destroy() backs close(), which must not fail over one wedged process: the reaper's
                // destroyForcibly at JVM exit is the last resort.
            }
            Reaper.unregister(this);
            Reaper.releasePort(port);
            Reaper.deleteRecursively(dir);
        }
    }

    /** The live process, for the shutdown hook. */
    Process currentProcess() {
        return process;
    }

    Path dir() {
        return dir;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(describe() + " is closed: its RedisNodes was closed, start new nodes instead");
        }
    }

    private Process startProcess() {
        List<String> command = new ArrayList<>();
        command.add(settings.binary().toString());
        command.addAll(Arrays.asList("--port", Integer.toString(port), "--bind", HOST, "--dir", dir.toString()));
        command.addAll(settings.commonArgs());
        try {
            return new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    // Append: after a restart the log still shows why the previous process ended.
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + settings.binary() + " for " + describe() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Probes with PING until the process answers. The answering server must report our pid in
     * {@code INFO server}: when our process lost the bind race, another Redis may be answering on the port.
     */
    private void awaitReady(Process p) throws StartFailure {
        long deadline = System.nanoTime() + settings.startupTimeout().toNanos();
        String lastProblem = "no answer yet";
        while (true) {
            if (!p.isAlive()) {
                waitFor(p, KILL_WAIT);
                String tail = logTail();
                boolean portTaken = tail.contains("Address already in use");
                throw new StartFailure(describe() + ": redis-server exited with code " + exitCode(p)
                        + " during startup; last lines of " + log + ":\n" + tail, portTaken);
            }
            try (RespClient client = RespClient.connect(HOST, port, password(), PROBE_TIMEOUT)) {
                client.call("PING");
                Object info = client.call("INFO", "server");
                Matcher m = PROCESS_ID.matcher(String.valueOf(info));
                // No process_id (a fork that drops it) cannot be checked, so it is taken as ours.
                if (!m.find() || Long.parseLong(m.group(1)) == p.pid()) {
                    return;
                }
                lastProblem = "another process (pid " + m.group(1) + ") answers on the port";
            } catch (IOException | RedisReplyException e) {
                // Refused while binding, LOADING while reading the AOF: both mean "not yet".
                lastProblem = e.getMessage();
            }
            if (System.nanoTime() - deadline > 0) {
                killProcess();
                throw new StartFailure(describe() + ": redis-server did not answer PING within " + settings.startupTimeout()
                        + " (last problem: " + lastProblem + "); raise RedisNodes.builder().startupTimeout(...) if the machine is slow. "
                        + "Last lines of " + log + ":\n" + logTail(), lastProblem.startsWith("another process"));
            }
            pauseBetweenProbes(PROBE_INTERVAL);
        }
    }

    private void killProcess() {
        Process p = process;
        paused = false;
        if (p == null) {
            return;
        }
        // SIGKILL also ends a SIGSTOPped process: no SIGCONT needed first.
        p.destroyForcibly();
        if (!waitFor(p, KILL_WAIT)) {
            throw new IllegalStateException(describe() + ": redis-server pid " + p.pid() + " survived SIGKILL for " + KILL_WAIT);
        }
    }

    /** Sends a signal with the kill(1) command: the JDK can only send TERM and KILL. */
    private void signal(String name) {
        long pid = pid();
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).redirectErrorStream(true).start();
            String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!kill.waitFor(KILL_WAIT.toSeconds(), TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("'kill -" + name + " " + pid + "' failed for " + describe() + ": " + output);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run 'kill -" + name + " " + pid + "' for " + describe()
                    + " (pause and resume need the kill command on the PATH): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while signalling " + describe(), e);
        }
    }

    /**
     * Waits until /proc shows the process stopped (or running again). kill(1) returns once the signal is
     * queued, and a test asserting "no answer" right after pause() must not race the delivery. Where there
     * is no /proc (macOS) this returns at once; delivery there is fast enough in practice.
     */
    private void awaitProcState(boolean stopped) {
        Path stat = Paths.get("/proc", Long.toString(pid()), "stat");
        long deadline = System.nanoTime() + KILL_WAIT.toNanos();
        while (System.nanoTime() - deadline < 0) {
            String content;
            try {
                content = Files.readString(stat);
            } catch (IOException | UncheckedIOException e) {
                return;
            }
            // Format: "pid (comm) S ...": the state follows the last ')', since comm may contain ')'.
            int close = content.lastIndexOf(')');
            if (close < 0 || close + 2 >= content.length()) {
                return;
            }
            char state = content.charAt(close + 2);
            boolean isStopped = state == 'T' || state == 't';
            if (isStopped == stopped || state == 'Z' || state == 'X') {
                return;
            }
            pauseBetweenProbes(Duration.ofMillis(1));
        }
        throw new IllegalStateException(describe() + " did not become " + (stopped ? "stopped" : "running") + " within " + KILL_WAIT);
    }

    private String logTail() {
        try {
            String text = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
            String[] lines = text.split("\\R");
            int from = Math.max(0, lines.length - LOG_TAIL_LINES);
            return String.join("\n", Arrays.asList(lines).subList(from, lines.length));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    private static String exitCode(Process p) {
        return p.isAlive() ? "?" : Integer.toString(p.exitValue());
    }

    private static boolean waitFor(Process p, Duration timeout) {
        try {
            return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for redis-server pid " + p.pid() + " to exit", e);
        }
    }

    /**
     * A port that is free right now and not held by another node of this JVM. Another process can still
     * take it before redis-server binds; {@link #awaitStartup()} handles that by moving on.
     */
    static int freePort() {
        for (int i = 0; i < 100; i++) {
            int candidate;
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
                candidate = socket.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open a socket on " + HOST + " to find a free port: " + e.getMessage(), e);
            }
            if (Reaper.reservePort(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("found no free port on " + HOST + " that this JVM's nodes do not already hold");
    }

    /** Why a launch did not become ready; {@code portTaken} when another process holds the port. */
    private static final class StartFailure extends Exception {
        private static final long serialVersionUID = 1L;
        final boolean portTaken;

        StartFailure(String message, boolean portTaken) {
            super(message, null, false, false);
            this.portTaken = portTaken;
        }
    }
}
