package io.redsync.spi;

/**
 * One node's answer to an acquisition.
 *
 * @param acquired        true if the key now holds the caller's value with the requested TTL
 * @param holderTtlMillis when not acquired: the remaining TTL of the other owner's key in milliseconds, or
 *                        -1 when it has none; 0 when acquired
 * @param fencingCounter  when acquired with a counter key: the node's fencing counter (0 if never set);
 *                        -1 otherwise
 * @since 0.1.0
 */
public record AcquireReply(boolean acquired, long holderTtlMillis, long fencingCounter) {

    /** The reply of a node that granted the lock, without fencing. @since 0.1.0 */
    public static final AcquireReply GRANTED = new AcquireReply(true, 0, -1);

    /**
     * The reply of a node that granted the lock and read its fencing counter.
     *
     * @param counter the counter, {@code >= 0}
     * @return the reply
     * @since 0.1.0
     */
    public static AcquireReply granted(long counter) {
        return new AcquireReply(true, 0, counter);
    }

    /**
     * The reply of a node where another owner holds the key.
     *
     * @param holderTtlMillis the holder's remaining TTL, or -1 when it has none
     * @return the reply
     * @since 0.1.0
     */
    public static AcquireReply taken(long holderTtlMillis) {
        return new AcquireReply(false, holderTtlMillis, -1);
    }
}
