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
     * Sets {@code key = value} with a TTL if the key is absent. With {@code refreshIfHeld}, a key that
     * already holds {@code value} gets the TTL and counts as acquired, so a retry after a lost reply does not
     * count the caller as its own competitor; without it, such a key counts as held by another owner.
     *
     * @param key           the lock key
     * @param value         the owner token
     * @param expiryMillis  the TTL in milliseconds, positive
     * @param refreshIfHeld whether a key already holding {@code value} counts as acquired
     * @return the node's answer
     * @since 0.1.0
     */
    CompletionStage<AcquireReply> acquire(String key, String value, long expiryMillis, boolean refreshIfHeld);

    /**
     * Deletes the key if it holds {@code value}.
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
     * Frees what this node created (its connection); does not close resources it was given.
     *
     * @since 0.1.0
     */
    @Override
    void close();
}
