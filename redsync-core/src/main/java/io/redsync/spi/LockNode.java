package io.redsync.spi;

import java.util.concurrent.CompletionStage;

/**
 * One independent Redis master, as the quorum engine sees it. Every operation is asynchronous and
 * atomic on the node (a Lua script or a single command). Implementations need not time out: the engine
 * bounds every call by the node timeout. They must keep commands to one node in the order they were
 * issued (one multiplexed connection does), because a release sent after an acquisition must not
 * overtake it.
 *
 * <p>{@code io.redsync.lettuce.LettuceNode} is the implementation over Lettuce; implement this interface
 * only to wrap it (tracing, fault injection in tests) or to support another client.
 *
 * @since 0.1.0
 */
public interface LockNode extends AutoCloseable {

    /**
     * The node's address for messages.
     *
     * @return {@code host:port} or a socket path, never with credentials
     * @since 0.1.0
     */
    String address();

    /**
     * Connects now if the node is not connected and no connect is in flight, and reports when commands can be
     * sent. The engine calls it before a lock call's first attempt, so connecting is not counted against that
     * attempt's validity or node timeouts; it bounds the wait by the instance's connect timeout itself. Nodes
     * that need no connecting return a completed stage (the default); a wrapper delegates, or its wrapped node
     * connects inside the first attempt.
     *
     * @return completes when the connection is up, with the server's identity (its {@code INFO server} run_id, by
     *         which two entries reaching one server are told apart) or {@code null} when unknown; completes
     *         exceptionally when connecting failed (a later call may connect again)
     * @since 0.1.0
     */
    default CompletionStage<String> connect() {
        return java.util.concurrent.CompletableFuture.completedFuture(null);
    }

    /**
     * Sets {@code key = value} with a TTL if the key is absent. With {@code refreshIfHeld}, a key that
     * already holds {@code value} gets the TTL and counts as acquired, so a retry after a lost reply does not
     * count the caller as its own competitor; without it, such a key counts as held by another owner.
     *
     * @param key           the lock key
     * @param value         the owner token
     * @param expiryMillis  the TTL in milliseconds, positive
     * @param refreshIfHeld whether a key already holding {@code value} counts as acquired
     * @param counterKey    for fencing: the key of the node's fencing counter, read in the same atomic step
     *                      and returned in {@link AcquireReply#fencingCounter()}; null without fencing
     * @return the node's answer
     * @since 0.1.0
     */
    CompletionStage<AcquireReply> acquire(String key, String value, long expiryMillis, boolean refreshIfHeld, String counterKey);

    /**
     * Raises the fencing counter to {@code token} if the key still holds {@code value} (and the counter is
     * lower). Counters never expire.
     *
     * @param key        the lock key
     * @param value      the owner token
     * @param counterKey the counter's key
     * @param token      the fencing token of the new lease
     * @return {@link Ownership#MINE} when the key holds the value (the counter is now {@code >= token})
     * @since 0.1.0
     */
    CompletionStage<Ownership> fence(String key, String value, String counterKey, long token);

    /**
     * Listens for releases of {@code key} on this node; {@link #release} announces each deletion. The
     * listener receives the announcement, {@link #announcementOf} the released owner token, so a waiter can
     * ignore its own releases. Listeners must be quick: they run on the node's I/O thread.
     *
     * <p>Notifications only save latency: a lost one costs a retry delay, never correctness. Nodes that
     * cannot subscribe return a failed stage, and waiters fall back to polling.
     *
     * @param key      the lock key
     * @param listener called on each announced release
     * @return completes once the subscription is active
     * @since 0.1.0
     */
    default CompletionStage<Subscription> subscribe(String key, java.util.function.Consumer<String> listener) {
        return java.util.concurrent.CompletableFuture.failedFuture(
                new UnsupportedOperationException(getClass().getSimpleName() + " does not announce releases"));
    }

    /**
     * The announcement of a release of {@code value}: the lowercase hex SHA-1 of its UTF-8 bytes. Published
     * instead of the token itself, which is a credential; a waiter compares it with its own to ignore its
     * own releases.
     *
     * @param value an owner token
     * @return its announcement
     * @since 0.1.0
     */
    static String announcementOf(String value) {
        return Announcements.of(value);
    }

    /**
     * An active {@link #subscribe subscription}.
     *
     * @since 0.1.0
     */
    interface Subscription {
        /**
         * Stops listening. Idempotent.
         *
         * @since 0.1.0
         */
        void cancel();
    }

    /**
     * Deletes the key if it holds {@code value}, and announces the deletion to {@link #subscribe subscribers}.
     *
     * @param key   the lock key
     * @param value the owner token
     * @return what the key held before: {@link Ownership#MINE} means deleted
     * @since 0.1.0
     */
    CompletionStage<Ownership> release(String key, String value);

    /**
     * Resets the key's TTL if it holds {@code value}; with {@code setIfAbsent}, also sets an absent key.
     *
     * @param key          the lock key
     * @param value        the owner token
     * @param expiryMillis the new TTL in milliseconds, positive
     * @param setIfAbsent  whether to set the key when it is absent (redsync's setNXOnExtend)
     * @return {@link Ownership#MINE} when the key now holds the value with the new TTL
     * @since 0.1.0
     */
    CompletionStage<Ownership> extend(String key, String value, long expiryMillis, boolean setIfAbsent);

    /**
     * Reads the key.
     *
     * @param key the lock key
     * @return the value, or {@code null} when absent
     * @since 0.1.0
     */
    CompletionStage<String> get(String key);

    /**
     * Reads the key's value and its remaining TTL in one atomic step, for asking whether anyone holds the lock
     * ({@code Mutex.holderTtl()}). Nodes that cannot answer it return a failed stage (the default), and count
     * as failed in that query only.
     *
     * @param key the lock key
     * @return the value and TTL, {@link KeyState#ABSENT} when the key is absent
     * @since 0.1.0
     */
    default CompletionStage<KeyState> inspect(String key) {
        return java.util.concurrent.CompletableFuture.failedFuture(
                new UnsupportedOperationException(getClass().getSimpleName() + " does not implement inspect(key)"));
    }

    /**
     * Frees what this node created (its connection); does not close resources it was given.
     *
     * @since 0.1.0
     */
    @Override
    void close();
}
