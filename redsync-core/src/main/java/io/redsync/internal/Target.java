package io.redsync.internal;

/**
 * What every operation on one lock sends to: the lock's name (for messages), its key, the fencing counter
 * beside it, the order in which the nodes are asked, whether a ballot decides as soon as a quorum either way has
 * answered, and the bound on each node's call. One per mutex; operations take it instead of positional fields.
 *
 * @param lockName     the lock's name, as the caller gave it
 * @param key          the lock key (prefix + name)
 * @param counterKey   the fencing counter's key, or null when the lock issues no fencing tokens (as the SPI's
 *                     {@code acquire} takes it)
 * @param order        the node order (shuffled once per mutex with {@code shufflePools})
 * @param failFast     decide once a quorum either way has answered
 * @param timeoutNanos each node call's bound
 */
record Target(String lockName, String key, String counterKey, int[] order, boolean failFast, long timeoutNanos) {
    static Target of(String lockName, String key, io.redsync.LockOptions options, int[] order) {
        return new Target(lockName, key, options.fencing() ? FenceKeys.counterKey(key) : null, order, options.failFast(),
                options.nodeTimeout().toNanos());
    }

    boolean fenced() {
        return counterKey != null;
    }

    /** The same lock asked without fail-fast: a look, a cleanup, a fence write-back waits for every node. */
    Target patient() {
        return failFast ? new Target(lockName, key, counterKey, order, false, timeoutNanos) : this;
    }
}
