package io.redsync.spi;

/**
 * One node's answer to an acquisition.
 *
 * @param acquired       true if the key now holds the caller's value with the requested TTL (it was
 *                       absent, or already held this same value and its TTL was refreshed)
 * @param holderTtlMillis when not acquired: the remaining TTL of the other owner's key in milliseconds,
 *                       or -1 when it has none; 0 when acquired
 * @since 0.1.0
 */
public record AcquireReply(boolean acquired, long holderTtlMillis) {

    /** The reply of a node that granted the lock. @since 0.1.0 */
    public static final AcquireReply GRANTED = new AcquireReply(true, 0);
}
