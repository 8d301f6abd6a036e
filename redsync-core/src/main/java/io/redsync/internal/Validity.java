package io.redsync.internal;

import java.util.function.LongFunction;

/**
 * A lease's local state: its validity deadline, the extensions sent and answered, loss and release. Pure
 * bookkeeping on {@link System#nanoTime()} values the caller passes (no I/O, no clock of its own), so it can
 * be driven alone: {@code ValidityModelSpec} model-checks it against in-memory nodes. Thread-safe.
 *
 * <p>The rule for extensions: the deadline is never later than what the nodes were last told. Extensions are
 * numbered as they are sent, and sent in that order (under this object's lock), so every node applies them
 * in that order and ends with the newest one it received.
 * <ul>
 *   <li>Sending one that ends sooner moves the deadline in at once: the nodes may apply it any moment.</li>
 *   <li>Only the newest one sent moves the deadline out, when a quorum confirmed it.</li>
 *   <li>An older one answered later changes nothing once a newer one was confirmed (every node applied it
 *       before the newer one); otherwise it can only move the deadline in, whatever its outcome.</li>
 * </ul>
 */
final class Validity {
    /** Guarded by this. */
    private long deadline;
    /** Guarded by this: extensions sent so far; the newest is number {@code issued}. */
    private long issued;
    /** Guarded by this: the newest extension a quorum confirmed (0: none). */
    private long confirmed;
    /** Guarded by this: when the lease was declared lost. */
    private long lostAt;
    private volatile boolean lost;
    private volatile boolean released;

    Validity(long deadline) {
        this.deadline = deadline;
    }

    /**
     * Numbers an extension ending at {@code candidate} and sends it with {@code send}, under the lock, so
     * extensions reach every node in the order of their numbers.
     */
    synchronized <T> T issue(long candidate, LongFunction<T> send) {
        long ticket = ++issued;
        if (candidate - deadline < 0) {
            deadline = candidate;
        }
        return send.apply(ticket);
    }

    /** Extension {@code ticket} was answered: {@code confirmed} iff a quorum applied it while validity remained. */
    synchronized void settle(long ticket, boolean confirmedByQuorum, long candidate) {
        if (ticket < confirmed) {
            return; // a newer extension, applied after this one on every node, was confirmed
        }
        if (confirmedByQuorum) {
            confirmed = ticket;
            if (ticket == issued) {
                deadline = candidate;
                return;
            }
        }
        if (candidate - deadline < 0) {
            deadline = candidate;
        }
    }

    /** The deadline the nodes' keys were last given (for scheduling; ignores loss and release). */
    synchronized long deadline() {
        return deadline;
    }

    /** When validity ends as reported: the deadline, or the moment of the loss if earlier. */
    synchronized long validUntil() {
        return lost && lostAt - deadline < 0 ? lostAt : deadline;
    }

    boolean isValid(long now) {
        return !released && !lost && validUntil() - now > 0;
    }

    long remainingNanos(long now) {
        return released || lost ? 0 : Math.max(0, validUntil() - now);
    }

    /** Declares the loss at {@code now}; false if already lost or released. */
    synchronized boolean lose(long now) {
        if (lost || released) {
            return false;
        }
        lostAt = now;
        lost = true;
        return true;
    }

    boolean isLost() {
        return lost;
    }

    /** Marks the release; false if released before. */
    synchronized boolean release() {
        if (released) {
            return false;
        }
        released = true;
        return true;
    }

    boolean isReleased() {
        return released;
    }
}
