package io.redsync.spi;

/**
 * What one node holds under a lock key, read in one atomic step: the holder's value and its remaining TTL.
 *
 * @param value     the value held (an owner token), or {@code null} when the key is absent
 * @param ttlMillis the key's remaining TTL in milliseconds; -1 when it has none; 0 when absent
 * @since 0.1.0
 */
public record KeyState(String value, long ttlMillis) {

    /** The state of an absent key. @since 0.1.0 */
    public static final KeyState ABSENT = new KeyState(null, 0);
}
