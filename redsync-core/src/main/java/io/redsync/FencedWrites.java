package io.redsync;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.redsync.internal.Internals;

import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * The storage side of fencing, for data kept in Redis: a write carries the writer's
 * {@linkplain Lease#fencingToken() fencing token}, and is applied only if no write with a <em>higher</em>
 * token was applied to that key before. A holder that lost its lock (a long GC pause, a partition) and
 * writes late is thus rejected, even though it believes it still holds the lock, while the current holder
 * may write as often as it likes, and retry a write whose reply it never got.
 *
 * <pre>{@code
 * try (Lease lease = redsync.lock("account:9", LockOptions.builder().fencing(true).build())) {
 *     boolean written = FencedWrites.setIfNewer(store.async(), "balance:9", "100",
 *             lease.fencingToken().getAsLong()).toCompletableFuture().join();
 *     if (!written) {
 *         // a holder with a higher token wrote since: this lease was lost, its work must not count
 *     }
 * }
 * String balance = FencedWrites.get(store.async(), "balance:9").toCompletableFuture().join();
 * }</pre>
 *
 * <p><b>Where the data lives.</b> A fenced value is a hash at {@link #storageKey(String) storageKey(key)}
 * ({@code {key}:fenced}, fields {@code value} and {@code token}), never at {@code key} itself, so the data's
 * keys cannot meet the lock's: a lock named {@code account:9} keeps its key {@code account:9} and its
 * fencing counter {@code {account:9}:fence}, and a fenced write to {@code account:9} neither overwrites the
 * lock key nor reads the lock's counter. Still, keep data off the lock nodes (they run without eviction and
 * hold what Redlock needs), or at least use a key distinct from every lock name.
 *
 * <p><b>Equal tokens.</b> A write with the same token as the last applied one is accepted. Tokens are unique per
 * lease (every later holder gets a strictly greater one), so an equal token can only come from the lease that
 * wrote last: its second write, or its retry after a timeout. Rejecting it would refuse the holder's own
 * work. The same rule in SQL, with a column that starts at 0 (a {@code NULL} would fail every comparison):
 * <pre>{@code
 * ALTER TABLE account ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;
 * UPDATE account SET balance = ?, fence = ? WHERE id = ? AND fence <= ?   -- 0 rows: a newer holder wrote
 * }</pre>
 *
 * @since 0.1.0
 */
public final class FencedWrites {
    /**
     * KEYS[1] = the value's hash; ARGV[1] = value, ARGV[2] = token. Writes unless a higher token was recorded.
     * Returns 1 written, 0 rejected. One key, so it runs on a Redis Cluster as well.
     */
    private static final String SET_IF_NEWER = """
            local token = tonumber(ARGV[2])
            local recorded = tonumber(redis.call('HGET', KEYS[1], 'token') or '0')
            if token < recorded then
              return 0
            end
            redis.call('HSET', KEYS[1], 'value', ARGV[1], 'token', ARGV[2])
            return 1
            """;

    private FencedWrites() {
    }

    /**
     * Stores {@code value} for {@code key} unless a write with a token higher than {@code token} was applied
     * before; a write with an equal token is applied (the same lease writing again). Value and token are set
     * in one atomic step, in a hash at {@link #storageKey(String)}; read the value with {@link #get}.
     *
     * @param redis the data store's connection; keep data off the lock nodes, or use a key distinct from every lock
     *              name
     * @param key   the data's name (the Redis key is {@link #storageKey(String) storageKey(key)})
     * @param value the value to write
     * @param token the writer's fencing token, {@link Lease#fencingToken()}, at least 1
     * @return completes with true if written, false if rejected as stale (a higher token wrote before); fails
     *         as the Redis command does (connection errors, {@code WRONGTYPE} when the storage key holds
     *         something else)
     * @throws IllegalArgumentException if {@code token} is below 1 (no lease has such a token)
     * @since 0.1.0
     */
    public static CompletionStage<Boolean> setIfNewer(RedisAsyncCommands<String, String> redis, String key, String value, long token) {
        Objects.requireNonNull(redis, "redis must not be null");
        Objects.requireNonNull(key, "key must not be null");
        Objects.requireNonNull(value, "value must not be null");
        if (token < 1) {
            throw new IllegalArgumentException("token must be >= 1, was " + token + "; pass lease.fencingToken().getAsLong() "
                    + "of a lease acquired with fencing(true)");
        }
        return redis.<Long>eval(SET_IF_NEWER, ScriptOutputType.INTEGER, new String[] {storageKey(key)}, value, Long.toString(token))
                .thenApply(written -> written == 1);
    }

    /**
     * Reads the value last written for {@code key} by {@link #setIfNewer}.
     *
     * @param redis the data store's connection
     * @param key   the data's name, as given to {@link #setIfNewer}
     * @return completes with the value, or {@code null} when nothing was written
     * @since 0.1.0
     */
    public static CompletionStage<String> get(RedisAsyncCommands<String, String> redis, String key) {
        Objects.requireNonNull(redis, "redis must not be null");
        Objects.requireNonNull(key, "key must not be null");
        return redis.hget(storageKey(key), "value");
    }

    /**
     * The Redis key of the hash holding {@code key}'s value and the highest applied token (fields
     * {@code value}, {@code token}): {@code "{" + key + "}:fenced"}, or {@code key + ":fenced"} when {@code key}
     * already has a hash tag. It ends in {@code :fenced}, which no lock key or fencing counter
     * ({@code ...:fence}) derived from a lock name does, and stays in {@code key}'s Redis Cluster hash slot.
     *
     * @param key the data's name
     * @return the storage key
     * @since 0.1.0
     */
    public static String storageKey(String key) {
        Objects.requireNonNull(key, "key must not be null");
        return Internals.tagged(key) + ":fenced";
    }
}
