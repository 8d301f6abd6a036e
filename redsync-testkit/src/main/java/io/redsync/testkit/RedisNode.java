package io.redsync.testkit;

import java.util.Set;

/**
 * One Redis server started by {@link RedisNodes}, with controls to inject failures.
 *
 * <p>All methods are safe to call from any thread, including while clients under test use the node:
 * lifecycle changes ({@link #stop()}, {@link #kill()}, {@link #restart()}, {@link #pause()},
 * {@link #resume()}) are serialized per node, and every command opens its own short-lived connection.
 *
 * <p>The lifecycle methods block until the change is observable (the process has exited, the server
 * answers {@code PING}, the process is stopped), so a test can assert right after them without waiting.
 *
 * @since 0.1.0
 */
public interface RedisNode {

    /**
     * The position of this node in {@link RedisNodes#nodes()}, from 0.
     *
     * @return the index
     * @since 0.1.0
     */
    int index();

    /**
     * The host to connect to: {@code 127.0.0.1} for process nodes, the Docker host for Docker nodes.
     *
     * @return the host
     * @since 0.1.0
     */
    String host();

    /**
     * The TCP port; it stays the same across {@link #restart()}.
     *
     * @return the port
     * @since 0.1.0
     */
    int port();

    /**
     * {@code redis://host:port}, or {@code redis://:password@host:port} when a password was configured
     * (the password percent-encoded where needed).
     *
     * @return the URI
     * @since 0.1.0
     */
    String uri();

    /**
     * The OS process id of the most recently started {@code redis-server} process (it changes on
     * {@link #restart()}), or {@code -1} for Docker nodes, whose process lives in a container.
     *
     * @return the pid, or {@code -1}
     * @since 0.1.0
     */
    long pid();

    /**
     * Whether the server process is alive; a paused server is running.
     *
     * @return true while the process is alive
     * @since 0.1.0
     */
    boolean isRunning();

    /**
     * Whether the server is running but {@link #pause() paused}.
     *
     * @return true while paused
     * @since 0.1.0
     */
    boolean isPaused();

    /**
     * Shuts the server down gracefully and waits for it to exit: {@code SHUTDOWN NOSAVE} with
     * {@link Persistence#NONE}, {@code SHUTDOWN} otherwise (which flushes the append-only file). A paused
     * node is resumed first, since a stopped process cannot act on {@code SHUTDOWN}. Falls back to SIGTERM
     * and then SIGKILL if the server does not exit in time. Does nothing when the node is not running.
     *
     * @throws IllegalStateException if the node belongs to a closed {@link RedisNodes}
     * @since 0.1.0
     */
    void stop();

    /**
     * Kills the server with SIGKILL, as a crash or power loss would, and waits until the process is gone and
     * the port refuses connections. Writes not yet fsynced to the append-only file are lost. Does nothing
     * when the node is not running.
     *
     * @throws IllegalStateException if the node belongs to a closed {@link RedisNodes}
     * @since 0.1.0
     */
    void kill();

    /**
     * Starts the server again on the same port and data directory, killing it first if it is running, and
     * waits until it answers {@code PING}. With an append-only {@link Persistence} the data written before
     * the stop or kill is loaded again; with {@link Persistence#NONE} the node comes back empty.
     *
     * @throws IllegalStateException if the server does not answer within the startup timeout (the message
     *     holds the end of its log), or the node belongs to a closed {@link RedisNodes}
     * @since 0.1.0
     */
    void restart();

    /**
     * Freezes the server with SIGSTOP: it keeps its port and connections but answers nothing, like a node
     * stuck in a long GC pause or behind a network partition. Returns once the process is stopped. Does
     * nothing when already paused.
     *
     * @throws IllegalStateException if the node is not running
     * @since 0.1.0
     */
    void pause();

    /**
     * Unfreezes a {@link #pause() paused} server with SIGCONT; it then answers the commands queued
     * meanwhile. Does nothing when not paused.
     *
     * @throws IllegalStateException if the node belongs to a closed {@link RedisNodes}
     * @since 0.1.0
     */
    void resume();

    /**
     * Deletes every key ({@code FLUSHALL}).
     *
     * @throws IllegalStateException if the node is not running or is paused
     * @since 0.1.0
     */
    void flush();

    /**
     * All keys ({@code KEYS *}). {@code KEYS} blocks the server while it scans, which is fine for the small
     * data sets of tests and nowhere else.
     *
     * @return the keys, in no particular order
     * @throws IllegalStateException if the node is not running or is paused
     * @since 0.1.0
     */
    Set<String> keys();

    /**
     * The keys matching a glob-style pattern ({@code KEYS pattern}).
     *
     * @param pattern a Redis glob pattern, e.g. {@code "lock:*"}
     * @return the matching keys, in no particular order
     * @throws IllegalStateException if the node is not running or is paused
     * @since 0.1.0
     */
    Set<String> keys(String pattern);

    /**
     * Sends one raw command on a fresh connection (authenticated when a password is configured) and returns
     * the reply: a {@link String} for simple and bulk strings, a {@link Long} for integers, a
     * {@code List<Object>} for arrays, {@code null} for null replies. An error nested in an array (as
     * {@code EXEC} can return) appears in the list as a {@link RedisReplyException}.
     *
     * <p>Connecting and each read are bounded by a 5 second timeout, so a node frozen by something other
     * than {@link #pause()} fails the call instead of hanging the test.
     *
     * @param command the command name and its arguments, e.g. {@code call("SET", "k", "v", "PX", "100")}
     * @return the reply
     * @throws RedisReplyException when Redis answers with an error, e.g. {@code WRONGTYPE ...}
     * @throws IllegalStateException if the node is not running or is paused, naming the node and its port
     * @throws java.io.UncheckedIOException if the connection fails or the reply does not arrive in time
     * @since 0.1.0
     */
    Object call(String... command);
}
