package io.redsync;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.redsync.internal.Fences;

import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * The storage side of fencing, for data kept in Redis: a write carries the writer's
 * {@linkplain Lease#fencingToken() fencing token}, and is applied only if no write with a higher or equal
 * token was applied to that key before. A holder that lost its lock (a long GC pause, a partition) and
 * writes late is thus rejected, even though it believes it still holds the lock.
 *
 * <p>The same check in SQL:
 * <pre>{@code
 * UPDATE account SET balance = ?, fence = ? WHERE id = ? AND fence < ?   -- 0 rows: a newer holder wrote
 * }</pre>
 *
 * @since 0.1.0
 */
public final class FencedWrites {
    /**
     * KEYS[1] = data key, KEYS[2] = its fence; ARGV[1] = value, ARGV[2] = token. Writes and records the
     * token only if it is higher than the recorded one. Returns 1 written, 0 rejected.
     */
    private static final String SET_IF_NEWER = """
            local token = tonumber(ARGV[2])
            if tonumber(redis.call('GET', KEYS[2]) or '-1') < token then
              redis.call('SET', KEYS[1], ARGV[1])
              redis.call('SET', KEYS[2], ARGV[2])
              return 1
            end
            return 0
            """;

    private FencedWrites() {
    }

    /**
     * Sets {@code key} to {@code value} unless a write with a token {@code >= token} was applied before.
     * The highest token is kept beside the key (in {@link #fenceKey(String)}, same cluster slot).
     *
     * @param redis the data store's connection (not a lock node)
     * @param key   the data key
     * @param value the value to write
     * @param token the writer's fencing token
     * @return true if written, false if rejected as stale
     * @since 0.1.0
     */
    public static CompletionStage<Boolean> setIfNewer(RedisAsyncCommands<String, String> redis, String key, String value, long token) {
        Objects.requireNonNull(redis, "redis must not be null");
        Objects.requireNonNull(key, "key must not be null");
        Objects.requireNonNull(value, "value must not be null");
        return redis.<Long>eval(SET_IF_NEWER, ScriptOutputType.INTEGER, new String[] {key, fenceKey(key)}, value, Long.toString(token))
                .thenApply(written -> written == 1);
    }

    /**
     * Where the highest applied token of {@code key} is kept.
     *
     * @param key the data key
     * @return the fence key, in the same cluster hash slot as {@code key}
     * @since 0.1.0
     */
    public static String fenceKey(String key) {
        return Fences.counterKey(key);
    }
}
