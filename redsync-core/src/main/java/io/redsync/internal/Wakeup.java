package io.redsync.internal;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * One waiting lock call's hold on a release wake-up: taken from {@link Waiters}, then either used (an attempt
 * starts because of it) or, if the call ends first (its last try failed, its budget ran out, it was cancelled
 * or succeeded), given back so the next waiter gets it. A wake-up is never held by two waiters, and never
 * dropped while another waiter could use it.
 *
 * <p>The race this settles: a release is offered to a call that checks it is still waiting, and the call ends
 * before it records the wake-up. Offering records first and checks again after; ending takes what is recorded.
 * Whichever of the two comes second finds the wake-up and hands it on, exactly once ({@code getAndSet} and
 * {@code compareAndSet} on one reference).
 */
final class Wakeup {
    /** The wake-up a call gives itself (compared by identity); nobody else's to pass on. */
    private static final String SELF = new String("self");

    private final AtomicReference<String> pending = new AtomicReference<>();
    private final BooleanSupplier ended;

    /** @param ended whether the call is over (its result completed); then it takes no wake-up */
    Wakeup(BooleanSupplier ended) {
        this.ended = ended;
    }

    /**
     * A release was announced: takes its wake-up unless the call is over or already holds one (then the next
     * waiter gets it: two releases are two chances, not one).
     *
     * @return whether this call took it
     */
    boolean offer(String announcement) {
        String held = pending.get();
        // A wake-up of its own (held == SELF) gives way to a release: the release is what this waiter waits for.
        if (ended.getAsBoolean() || (held != null && held != SELF) || !pending.compareAndSet(held, announcement)) {
            return false;
        }
        // Ended meanwhile: give it back unless end() already took it (and passed it on).
        return !(ended.getAsBoolean() && pending.compareAndSet(announcement, null));
    }

    /** The call wakes itself (its subscription is active: a release may have been missed). */
    void self() {
        pending.compareAndSet(null, SELF);
    }

    /** Whether a wake-up is waiting to be used. */
    boolean pending() {
        return pending.get() != null;
    }

    /** An attempt starts: whatever wake-up was held is used by it. */
    void use() {
        pending.set(null);
    }

    /**
     * The call is over (call after its result completed): the unused release wake-up it held, to be offered
     * to the other waiters, or null.
     */
    String end() {
        String unused = pending.getAndSet(null);
        return unused == SELF ? null : unused;
    }
}
