package io.redsync.internal;

import io.netty.util.Timeout;
import io.redsync.spi.LockNode;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * The local, waiting side of release notifications: the lock calls of this instance waiting for a key, and which
 * of them a release wakes. The Redis side (one pub/sub subscription per key and node, over a connection of its
 * own) is {@code io.redsync.lettuce.Subscriptions}, reached through {@link LockNode#subscribe}: one subscription
 * per key and node, shared by every call waiting on that key, whatever their number.
 *
 * <p>A release is announced by every node where it deleted the key, each copy on that node's I/O thread.
 * Once copies from a quorum of nodes have arrived (the lock is then free on a quorum), one waiter is woken:
 * the one waiting longest that takes it. A release announced by fewer nodes (a failed attempt giving back
 * the node or two it took) wakes one after a short grace instead. The others keep waiting for the next
 * release, as they would have lost to the first anyway; their own retry delays still run, so a waiter woken
 * in vain (its attempt lost to another process) costs the rest nothing but the announcement. A waiter that
 * took the wake-up but ends before using it (its last try or its budget was used up by the attempt in
 * flight, or it was cancelled) hands it back with {@link #pass}, and the next waiter gets it: otherwise
 * everyone else would sleep out their retry delay with the lock free.
 *
 * <p>Why not wake everyone on every copy, as each waiter once did for itself: waiters woken by the first
 * copy found the key still held on the nodes whose release had not run yet, and waiters woken on several
 * threads at once sent their commands to each node in a different order; one took a node or two, another
 * the rest, nobody had a quorum, and all had to release what they took and back off. That split vote was
 * most of the 3-node handoff tail, and seven waiters sent seven attempts for one free lock.
 *
 * <p>It also knows, per key, who of this instance has the turn: a lease holding it, a lock call whose attempt is
 * in flight, or, in between, what such an attempt left: another owner holds the lock until its release is
 * announced ({@link #heldElsewhere}), or a released lease's turn is on its way to the waiter it woke
 * ({@link #othersTurn}). The other lock calls of this instance on that key send nothing meanwhile: the nodes could
 * only answer "taken", or split the vote between siblings. When the lease is released here, one
 * waiter is woken at once ({@link #releasedHere}), before the nodes' announcements arrive. So a crowd of calls on
 * one key in one process costs the nodes about one acquire per hand-off; without it, a burst of 10,000 calls sent
 * 10,000 acquires, each with a follow-up, and the releases of the first holders queued behind them on the one
 * connection for longer than the node timeout (issue 18).
 */
final class Waiters {
    /**
     * Copies of one release arrive within the time its release commands take; a copy later than this starts
     * a new release, which costs one extra attempt, no more. Short, because a caller-chosen owner value is the
     * same for every lease of the mutex, and its next release must not be taken for a copy.
     */
    private static final long COPY_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** How long a release announced by fewer than a quorum of nodes waits for more copies before it wakes. */
    private static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    /** The longest a released lease's turn waits for the waiter woken for it (a bound; it is claimed at once). */
    private static final long HANDOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    /**
     * How many listeners a release of this instance offers its wake-up to on the releasing thread
     * ({@link #releasedHere}) before the rest of the walk moves to a worker: a bound on what an I/O thread does.
     */
    private static final int INLINE_OFFERS = 4;

    /** The turns map is swept of ended turns when it grows past this, then past twice what the sweep left. */
    private static final int SWEEP_FLOOR = 1024;

    private final LockNode[] nodes;
    private final int quorum;
    private final ConcurrentHashMap<String, Watch> byKey = new ConcurrentHashMap<>();
    /**
     * Per key, who of this instance has the turn on it ({@link Turn}). Given back when the attempt fails, the
     * call ends or the lease is released; one that ends otherwise (a lease expired or lost) is removed when next
     * looked up, or by a sweep ({@link #take}).
     */
    private final ConcurrentHashMap<String, Turn> turns = new ConcurrentHashMap<>();
    private volatile int sweepAt = SWEEP_FLOOR;
    /** Joining order of the listeners ({@link Watch#add}). */
    private final AtomicLong places = new AtomicLong();

    /**
     * Where wake-ups are offered: the workers, never the I/O thread an announcement came on (see {@code wakeOne});
     * a release of this instance offers to its first few listeners itself ({@link #INLINE_OFFERS}).
     */
    private final Executor wakeOn;

    /** Offering wake-ups on the announcing thread itself (for the model checker, which owns its threads). */
    Waiters(LockNode[] nodes, int quorum) {
        this(nodes, quorum, Runnable::run);
    }

    Waiters(LockNode[] nodes, int quorum, Executor wakeOn) {
        this.nodes = nodes;
        this.quorum = quorum;
        this.wakeOn = wakeOn;
    }

    /**
     * Offers {@code listener} the announcements of {@code key} until {@link Entry#leave()}: it returns whether
     * it took the wake-up (false: the release was its own, or it is no longer waiting), and the next waiter
     * is offered it if not. Listeners run on I/O threads or the timer thread and must be quick.
     */
    Entry join(String key, Predicate<String> listener) {
        long[] place = new long[1];
        Watch watch = byKey.compute(key, (k, existing) -> {
            Watch w = existing != null ? existing : new Watch(k);
            place[0] = w.add(listener);
            return w;
        });
        return new Entry(key, place[0], watch.active);
    }

    /**
     * Offers a wake-up that a waiter took but could not use to the listeners of {@code key}, longest waiting
     * first, as a release is offered.
     */
    void pass(String key, String announcement) {
        Watch watch = byKey.get(key);
        if (watch != null) {
            watch.wakeOne(announcement);
        }
    }

    /**
     * Who of this instance has the turn on a key: a lock call whose attempt is in flight, a lease, or a placeholder
     * with a deadline (a hand-off, another owner's hold). While another has it, a lock call of this instance sends
     * nothing ({@link #othersTurn}): its attempt could only find the lock taken, or race its sibling for it.
     */
    interface Turn {
        /** Whether this still has its turn: the attempt is in flight, or the lease holds the lock. */
        default boolean live() {
            return endsInNanos(System.nanoTime()) > 0;
        }

        /**
         * How long from {@code now} this has its turn at most, 0 once it is over: the lease's validity left, or
         * the rest of the attempt's node timeout. A waiter never sleeps past it: the lock may be free then.
         */
        long endsInNanos(long now);
    }

    /** {@code turn} (an attempt being sent, a lease just granted) has the turn on {@code key} now. */
    void take(String key, Turn turn) {
        turns.put(key, turn);
        if (turns.size() > sweepAt) {
            // Turns that ended without being given back (a lease that expired or was lost) would otherwise stay,
            // one per key ever locked.
            turns.values().removeIf(t -> !t.live());
            sweepAt = Math.max(SWEEP_FLOOR, 2 * turns.size());
        }
    }

    /**
     * Whether another call or lease of this instance than {@code self} has the turn on {@code key}, and for how
     * long at most ({@link Turn#endsInNanos}): a lease holds it (granted, not released, lost or expired), or another
     * call's attempt is in flight. The caller then waits; a lease's release wakes one waiter at once
     * ({@link #releasedHere}), without a round trip to the nodes.
     *
     * @return the most the other's turn lasts from {@code now}, or 0 when nobody else has the turn
     */
    long othersTurn(String key, Turn self, long now) {
        Turn turn = turns.get(key);
        if (turn == null || turn == self) {
            return 0;
        }
        long left = turn.endsInNanos(now);
        if (left <= 0) {
            turns.remove(key, turn);
        }
        return Math.max(0, left);
    }

    /** Whether a lease of this instance holds {@code key} now. */
    boolean heldHere(String key) {
        return turns.get(key) instanceof LeaseImpl lease && lease.isValid();
    }

    /** How many keys have a turn recorded (some may have ended unnoticed; see {@link #take}). */
    int turnCount() {
        return turns.size();
    }

    /**
     * {@code attempt}'s turn ends: it failed, and its call waits on, listening for the key's releases. When it found
     * another owner holding the lock on a quorum, that owner's release will be announced, and until then (at most
     * {@code quietMillis}: the holder's keys expire, or the bound for lost announcements) the other calls of this
     * instance keep waiting too, as that attempt's own call does ({@code quietMillis} &lt; 0: nothing certain will
     * be announced, and the turn is simply given back). Any announcement for the key, or the last of its waiters
     * leaving, ends that: the knowledge is stale then, or nobody would hear the release.
     */
    void heldElsewhere(String key, Turn attempt, long quietMillis) {
        if (quietMillis > 0) {
            turns.replace(key, attempt, new Elsewhere(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(quietMillis)));
        } else {
            turns.remove(key, attempt);
        }
    }

    /** Ends an {@link Elsewhere} turn on {@code key}, if that is what it has. */
    private void forgetElsewhere(String key) {
        turns.computeIfPresent(key, (k, turn) -> turn instanceof Elsewhere ? null : turn);
    }

    /** {@code turn} ends without a release (an attempt failed, a call ended, a lease was given back unseen). */
    void give(String key, Turn turn) {
        turns.remove(key, turn);
    }

    /**
     * {@code lease} was released: its turn on {@code key} ends, and a waiter for the key is woken now, as a
     * quorum's announcement of the release would wake one. The announcements that follow from the nodes are
     * copies of this release, and wake nobody else.
     */
    void releasedHere(String key, Turn lease, String value) {
        Watch watch = byKey.get(key);
        if (watch == null) {
            turns.remove(key, lease);
            return;
        }
        // The turn passes to the waiter this wakes: until it sends its attempt (maybe a thread hop away), the
        // others keep waiting instead of racing it.
        Handoff handoff = new Handoff(System.nanoTime() + HANDOFF_NANOS);
        if (turns.replace(key, lease, handoff)) {
            watch.releasedHere(LockNode.announcementOf(value), key, handoff);
        }
    }

    /** A turn held by no call of this instance, until a deadline at most. */
    private abstract static class Until implements Turn {
        private final long until;

        Until(long until) {
            this.until = until;
        }

        @Override
        public long endsInNanos(long now) {
            return Math.max(0, until - now);
        }
    }

    /** A released lease's turn on its way to the waiter woken for it: replaced when that one sends its attempt. */
    private static final class Handoff extends Until {
        Handoff(long until) {
            super(until);
        }
    }

    /** Another owner holds the lock (an attempt of this instance found it): until its release is announced. */
    private static final class Elsewhere extends Until {
        Elsewhere(long until) {
            super(until);
        }
    }

    /** One listener's membership. */
    final class Entry {
        private final String key;
        /** Its place in the joining order. */
        private final long place;
        private final CompletableFuture<Void> active;

        private Entry(String key, long place, CompletableFuture<Void> active) {
            this.key = key;
            this.place = place;
            this.active = active;
        }

        /** Completes once some node's subscription is active; fails if none could subscribe. */
        CompletableFuture<Void> active() {
            return active;
        }

        /** Stops passing announcements to this listener; the last one to leave unsubscribes. Idempotent. */
        void leave() {
            if (byKey.computeIfPresent(key, (k, watch) -> watch.remove(place) ? null : watch) == null) {
                forgetElsewhere(key); // nobody of this instance listens for the key's release any more
            }
        }
    }

    /** Everything about one watched key. */
    private final class Watch {
        private final String key;
        final CompletableFuture<Void> active = new CompletableFuture<>();
        private final List<CompletionStage<LockNode.Subscription>> subscriptions = new ArrayList<>();
        /**
         * By place in the joining order. Changed under this (so the last to leave unsubscribes); offers walk it
         * without the lock and without copying it: a copy per release of thousands of waiters was most of the
         * workers' time in a crowd (issue 18).
         */
        private final ConcurrentSkipListMap<Long, Predicate<String>> listeners = new ConcurrentSkipListMap<>();
        // The release being announced, guarded by this: its announcement, first copy's time, the nodes whose
        // copy arrived (bit per node), whether its waiters were woken, and a number telling releases apart.
        private String release;
        private long releaseAt;
        private long copies;
        private boolean woken;
        private long releaseNumber;
        private Timeout grace;

        Watch(String key) {
            this.key = key;
            AtomicInteger failed = new AtomicInteger();
            for (int i = 0; i < nodes.length; i++) {
                int node = i;
                CompletionStage<LockNode.Subscription> subscription;
                try {
                    subscription = nodes[i].subscribe(key, announcement -> announced(node, announcement));
                } catch (RuntimeException e) {
                    subscription = CompletableFuture.failedFuture(e);
                }
                subscriptions.add(subscription);
                subscription.whenComplete((s, error) -> {
                    if (error == null) {
                        active.complete(null);
                    } else if (failed.incrementAndGet() == nodes.length) {
                        active.completeExceptionally(error);
                    }
                });
            }
        }

        /** Adds {@code listener} last; returns its place. */
        synchronized long add(Predicate<String> listener) {
            // Unique across watches, so an entry leaving twice never removes a later listener of a new watch.
            long place = places.getAndIncrement();
            listeners.put(place, listener);
            return place;
        }

        /** Removes the listener at {@code place}; when it was the last, unsubscribes and returns true. */
        synchronized boolean remove(long place) {
            listeners.remove(place);
            if (!listeners.isEmpty()) {
                return false;
            }
            subscriptions.forEach(s -> s.thenAccept(LockNode.Subscription::cancel));
            if (grace != null) {
                grace.cancel();
            }
            return true;
        }

        /** One node's copy of a release announcement, on its I/O thread. */
        private void announced(int node, String announcement) {
            // Whatever another owner's hold was known to last, it was released (the waiter woken tries now).
            forgetElsewhere(key);
            boolean wake = false;
            Timeout stale = null;
            synchronized (this) {
                long now = System.nanoTime();
                long bit = 1L << (node & 63);
                if (!announcement.equals(release) || now - releaseAt > COPY_WINDOW_NANOS || (copies & bit) != 0) {
                    // A new release (a second copy from one node is a new release with the same owner value).
                    release = announcement;
                    releaseAt = now;
                    copies = 0;
                    woken = false;
                    releaseNumber++;
                    stale = grace;
                    grace = null;
                }
                copies |= bit;
                if (!woken && (Long.bitCount(copies) >= quorum || nodes.length > 64)) {
                    woken = true;
                    stale = grace;
                    grace = null;
                    wake = true;
                } else if (!woken && grace == null) {
                    long number = releaseNumber;
                    grace = Scheduler.schedule(() -> graceOver(number), GRACE_NANOS);
                }
            }
            if (stale != null) {
                stale.cancel();
            }
            if (wake) {
                wakeOne(announcement);
            }
        }

        /**
         * This instance released the key: wakes a waiter unless a quorum's copies of the release already did; the
         * {@code handoff} turn ends when nobody takes the wake-up.
         */
        private void releasedHere(String announcement, String key, Handoff handoff) {
            Timeout stale;
            synchronized (this) {
                long now = System.nanoTime();
                if (announcement.equals(release) && now - releaseAt <= COPY_WINDOW_NANOS && woken) {
                    turns.remove(key, handoff);
                    return;
                }
                if (!announcement.equals(release) || now - releaseAt > COPY_WINDOW_NANOS) {
                    // Copies still to come from the nodes count towards this release (they find it woken).
                    release = announcement;
                    releaseAt = now;
                    copies = 0;
                    releaseNumber++;
                }
                woken = true;
                stale = grace;
                grace = null;
            }
            if (stale != null) {
                stale.cancel();
            }
            // On the releasing thread (usually the I/O thread that carried the release's reply), for the first
            // few listeners only: in a crowd the first one takes it, and its attempt goes out without a hop to a
            // worker and back. A longer walk (listeners that are ending or already hold a wake-up) goes to a
            // worker, as an announcement's does.
            int offered = 0;
            for (Predicate<String> listener : listeners.values()) {
                if (offered++ == INLINE_OFFERS) {
                    wakeOn.execute(() -> {
                        if (!offer(announcement)) {
                            turns.remove(key, handoff);
                        }
                    });
                    return;
                }
                if (listener.test(announcement)) {
                    return;
                }
            }
            turns.remove(key, handoff);
        }

        /** On the timer thread: a release announced by fewer than a quorum wakes a waiter now. */
        private void graceOver(long number) {
            String announcement;
            synchronized (this) {
                if (woken || number != releaseNumber) {
                    return;
                }
                woken = true;
                grace = null;
                announcement = release;
            }
            wakeOne(announcement);
        }

        /**
         * Offers the wake-up on a worker, never on the I/O thread the announcement came on: it walks the
         * waiters (thousands, in a crowd) and starts the woken one's attempt, and an I/O thread busy with that
         * delays every other reply it carries, uncontended locks on other names included (issue 18).
         */
        private void wakeOne(String announcement) {
            wakeOn.execute(() -> offer(announcement));
        }

        /** Longest waiting first, until one takes it; false if none did. */
        private boolean offer(String announcement) {
            for (Predicate<String> listener : listeners.values()) {
                if (listener.test(announcement)) {
                    return true;
                }
            }
            return false;
        }
    }
}
