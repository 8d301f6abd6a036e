package io.redsync.internal;

import io.netty.util.Timeout;
import io.redsync.Lease;
import io.redsync.LockAcquisitionException;
import io.redsync.LockTakenException;
import io.redsync.RedsyncException;
import io.redsync.Votes;
import io.redsync.spi.LockNode;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One {@code lock()} or {@code tryLock()} call: attempts, cleanup after each failed attempt, scheduled
 * waits between them. Steps run one after another on whichever thread completes the previous one;
 * nothing here blocks.
 *
 * <p>{@link #result} is what the caller sees. {@link #settled} completes once nothing more will be sent
 * to the nodes for this call (the last cleanup answered), so a blocking caller that was interrupted can
 * wait for its partial holds to be released before it throws.
 */
final class AcquireCall {
    final CompletableFuture<Lease> result = new CompletableFuture<>();
    final CompletableFuture<Void> settled = new CompletableFuture<>();

    private final Engine engine;
    private final MutexImpl mutex;
    private final String value;
    private final int maxAttempts;
    private final long expiryNanos;
    private final long expiryMillis;
    private final long driftNanos;
    private final long timeoutNanos;
    private final long budgetDeadline;
    private final boolean hasBudget;
    private int attempts;
    private volatile Ballot current;
    /** Per node: the previous attempt's cleanup release, complete once it ran there; the next acquire waits for it. */
    private final CompletableFuture<?>[] cleanupSent;
    /** The fencing counter beside the lock key, or null without fencing. */
    private final String counterKey;
    /** Whether to wait for release announcements. */
    private final boolean notify;
    /** Our token's announcement (computed on the first wait): announcements carrying it are our own releases. */
    private volatile String ownAnnouncement;
    /** This call's place among the waiters for release announcements, from the first wait on; null before. */
    private volatile Watches.Entry watch;
    /**
     * The release wake-up this call took and has not used yet: an attempt in flight is followed by an
     * immediate retry, a pending wait is cut short. One the call cannot use (it ends first) passes to the
     * next waiter.
     */
    private final Wakeup wake = new Wakeup(result::isDone);
    /**
     * Whether the attempt in flight counts against {@code tries}. Attempts made because the lock became
     * free (a release was announced, or the look taken once listening found it free) do not: they only try
     * earlier than the wait would have, and a failed one resumes that wait. Otherwise every release would
     * cost each waiter a try, and under contention waiters would run out of tries in milliseconds instead of
     * tries × delay, as redsync's polling gives. No other attempt is made: a call that is never woken makes
     * exactly {@code tries} attempts.
     */
    private volatile boolean counted;
    /** When the next counted attempt is due (System.nanoTime). */
    private long nextCountedAt;
    private volatile Timeout retry;
    /** This call as the listeners know it; null without listeners. */
    private final Telemetry.Call observed;

    /**
     * @param value this call's own token ({@link Tokens#forCall}): no other call stores it, so a key holding it
     *              was written by this call, and retries and cleanups may refresh or delete it
     */
    AcquireCall(Engine engine, MutexImpl mutex, String value, int maxAttempts) {
        this.engine = engine;
        this.mutex = mutex;
        this.value = value;
        this.maxAttempts = maxAttempts;
        this.expiryNanos = mutex.options().expiry().toNanos();
        this.expiryMillis = mutex.options().expiry().toMillis();
        this.driftNanos = mutex.options().drift().toNanos();
        this.timeoutNanos = mutex.options().nodeTimeout().toNanos();
        Duration budget = mutex.options().acquireTimeout().orElse(null);
        this.hasBudget = budget != null;
        this.cleanupSent = new CompletableFuture<?>[engine.nodes.length];
        this.counterKey = mutex.options().fencing() ? Fences.counterKey(mutex.key()) : null;
        this.notify = mutex.options().releaseNotifications();
        this.budgetDeadline = hasBudget ? System.nanoTime() + budget.toNanos() : 0;
        this.observed = engine.telemetry.acquireStarted(this);
    }

    /** The lock's name, for the listeners. */
    String lockName() {
        return mutex.name();
    }

    /** The attempts made so far, for the listeners. */
    int attempts() {
        return attempts;
    }

    CompletableFuture<Lease> start() {
        engine.register(this);
        settled.whenComplete((v, e) -> {
            engine.unregister(this);
            unsubscribe();
        });
        result.whenComplete((lease, error) -> {
            // A wake-up this call took but cannot use goes to the next waiter; after success it was ours.
            String unused = wake.end();
            if (unused != null && error != null) {
                engine.watches.pass(mutex.key(), unused);
            }
            if (error instanceof CancellationException) {
                onCancel();
            }
        });
        // Connecting is not part of an attempt: its clock and node timeouts start once a quorum of the nodes'
        // connections are up (or every connect finished, or the connect timeout passed), so a fresh instance's
        // first call is measured like any other. Within the acquire timeout, if one is set.
        long connectBound = engine.connectTimeoutNanos();
        if (hasBudget) {
            connectBound = Math.min(connectBound, budgetDeadline - System.nanoTime());
        }
        CompletableFuture<Void> connected = engine.connected(connectBound);
        if (connected.isDone()) {
            attempt(true);
        } else {
            connected.whenComplete((v, e) -> guarded(() -> attempt(true)));
        }
        return result;
    }

    /**
     * Completes once nothing of this call is in flight any more: it is settled, and every cleanup release it sent
     * (also those to nodes it does not wait for, whose acquire had not answered) has run or failed. Closing the
     * instance waits for it before it closes the connections.
     */
    CompletableFuture<Void> quiet() {
        return settled.thenCompose(v -> {
            java.util.List<CompletableFuture<?>> sent = new java.util.ArrayList<>();
            for (CompletableFuture<?> f : cleanupSent) {
                if (f != null) {
                    sent.add(f);
                }
            }
            return CompletableFuture.allOf(sent.toArray(CompletableFuture<?>[]::new));
        });
    }

    /** This call's node timeout, which bounds how long closing the instance waits for it. */
    long nodeTimeoutNanos() {
        return timeoutNanos;
    }

    private void attempt(boolean counts) {
        if (result.isDone()) {
            settled.complete(null);
            return;
        }
        counted = counts;
        if (counts) {
            attempts++;
        }
        wake.use();
        // A key holding this call's token can only be there after an earlier attempt of this call (the
        // token is the call's own): it counts as acquired. The first attempt needs no refresh, which lets
        // the node use a plain SET NX.
        boolean refresh = attempts > 1;
        long start = System.nanoTime();
        Ballot ballot = engine.fanOut(mutex.name(), mutex.order(), mutex.options().failFast(), timeoutNanos, null,
                node -> node.acquire(mutex.key(), value, expiryMillis, refresh, counterKey), cleanupSent);
        current = ballot;
        if (result.isDone()) {
            ballot.abort();
        }
        ballot.decided.thenAccept(b -> guarded(() -> decide(b, start)));
    }

    private void decide(Ballot ballot, long start) {
        long now = System.nanoTime();
        if (current == ballot) {
            current = null; // decided: nothing left to abort, and a long wait need not keep its replies
        }
        // Redlock: the lease is valid for the expiry minus the time the attempt took minus the drift.
        long validity = expiryNanos - (now - start) - driftNanos;
        if (!ballot.aborted() && ballot.succeeded() >= engine.quorum && validity > 0) {
            if (counterKey == null) {
                grant(ballot, start, -1);
            } else {
                writeBackToken(ballot, start);
            }
            return;
        }
        cleanUp(ballot, now - start, validity);
    }

    /**
     * Fencing: the token is the highest counter among the granting nodes, plus one, written back to a quorum
     * (only where our key still stands) before the lease is returned. Any later lease's quorum overlaps this
     * one in a node whose counter is now at least this token, so its token will be higher.
     */
    private void writeBackToken(Ballot ballot, long start) {
        long token = ballot.maxCounter() + 1;
        engine.fence(mutex.name(), mutex.order(), ballot, mutex.key(), value, counterKey, token, timeoutNanos)
                .thenAccept(written -> guarded(() -> {
                    long now = System.nanoTime();
                    long validity = expiryNanos - (now - start) - driftNanos;
                    if (!written.aborted() && written.succeeded() >= engine.quorum && validity > 0) {
                        grant(ballot, start, token);
                    } else {
                        cleanUp(ballot, now - start, validity);
                    }
                }));
    }

    private void grant(Ballot ballot, long start, long token) {
        LeaseImpl lease = new LeaseImpl(mutex, value, start + expiryNanos - driftNanos, token);
        // Adopted before the caller can see the lease, so mutex.unlock() in a continuation finds it.
        // A lease the caller never sees (it cancelled meanwhile) is un-adopted and given back.
        LeaseImpl previous = mutex.adopt(lease);
        engine.telemetry.granted(observed, this, lease);
        if (result.complete(lease)) {
            settled.complete(null);
            return;
        }
        mutex.unadopt(lease, previous);
        cleanUp(ballot, System.nanoTime() - start, 0);
    }

    private void cleanUp(Ballot ballot, long elapsedNanos, long validity) {
        engine.cleanup(ballot, mutex.name(), mutex.key(), value, mutex.order(), timeoutNanos, cleanupSent)
                .whenComplete((v, e) -> guarded(() -> afterCleanup(ballot, elapsedNanos, validity)));
    }

    private void afterCleanup(Ballot ballot, long elapsedNanos, long validity) {
        if (result.isDone()) {
            settled.complete(null);
            return;
        }
        boolean resumed = !counted; // an announced attempt failed: resume the wait it cut short
        if (!resumed && attempts >= maxAttempts) {
            fail(ballot, elapsedNanos, validity, "after " + attempts + (attempts == 1 ? " attempt" : " attempts"));
            return;
        }
        if (hopeless(ballot)) {
            fail(ballot, elapsedNanos, validity, "after " + attempts + (attempts == 1 ? " attempt" : " attempts")
                    + ": too few nodes are free of configuration errors to make a quorum, so retrying cannot help (see the"
                    + " node errors)");
            return;
        }
        long now = System.nanoTime();
        long delayNanos;
        if (resumed) {
            delayNanos = Math.max(0, nextCountedAt - now);
        } else {
            Duration delay = mutex.options().retryDelay().delay(attempts);
            if (delay == null || delay.isNegative()) {
                throw new IllegalStateException("retryDelay returned " + delay + " for attempt " + attempts
                        + " of lock '" + mutex.name() + "'; a retry delay must be a non-negative Duration");
            }
            delayNanos = delay.toNanos();
        }
        // Never wait past the holder's TTL: once its keys expire the lock is free, announced or not.
        long holderTtl = ballot.maxHolderTtlMillis();
        if (holderTtl >= 0) {
            delayNanos = Math.min(delayNanos, TimeUnit.MILLISECONDS.toNanos(holderTtl + 1));
        }
        nextCountedAt = now + delayNanos;
        if (hasBudget && now + delayNanos - budgetDeadline >= 0) {
            fail(ballot, elapsedNanos, validity, "within the acquire timeout of " + mutex.options().acquireTimeout().orElseThrow()
                    + " (" + attempts + (attempts == 1 ? " attempt)" : " attempts)"));
            return;
        }
        if (wake.pending()) {
            attempt(false); // the holder released while this attempt was in flight
            return;
        }
        if (delayNanos == 0) {
            attempt(true);
            return;
        }
        // Before the wait is scheduled, so the wait's attempt never races this call's joining of the waiters.
        subscribe();
        Timeout next = Engine.schedule(() -> guarded(() -> attempt(true)), delayNanos);
        retry = next;
        if (result.isDone() && next.cancel()) {
            settled.complete(null);
            return;
        }
        if (wake.pending() && next.cancel()) {
            // Announced (or found free) while we were deciding how long to wait.
            retry = null;
            attempt(false);
        }
    }

    /**
     * On the first wait: listen for release announcements on every node. A release between our failed
     * attempt and the subscription would be missed: once the first subscription is active, look (GET) whether
     * the lock is free on a quorum now, and try at once if it is. Only a look: an attempt made then whether
     * or not the lock was free would be one more than {@code tries}.
     */
    private void subscribe() {
        if (!notify || watch != null) {
            return;
        }
        ownAnnouncement = LockNode.announcementOf(value);
        Watches.Entry entry = engine.watches.join(mutex.key(), this::released);
        watch = entry;
        entry.active().thenRun(this::lookWhetherFree);
        if (settled.isDone()) {
            unsubscribe();
        }
    }

    private void lookWhetherFree() {
        if (result.isDone()) {
            return;
        }
        Ballot look = engine.fanOut(mutex.name(), mutex.order(), false, timeoutNanos, value, node -> node.get(mutex.key()));
        look.decided.thenAccept(b -> {
            // Free: absent, or still ours from an earlier attempt whose release failed, on a quorum.
            if (b.votes().absent().size() + b.succeeded() >= engine.quorum) {
                wake.self();
                wakeNow();
            }
        });
    }

    /**
     * A release was announced (on an I/O thread or the timer thread): whether this call takes the wake-up.
     * It does unless the release was its own, it is no longer waiting, or it already holds one; the next
     * waiter is offered it then.
     */
    private boolean released(String announcement) {
        if (announcement.equals(ownAnnouncement) || !wake.offer(announcement)) { // ownAnnouncement: set before joining
            return false;
        }
        wakeNow();
        return true;
    }

    /** Ends the wait now if one is pending; otherwise the attempt in flight is followed by an immediate retry. */
    private void wakeNow() {
        Timeout next = retry;
        if (next != null && next.cancel()) {
            retry = null;
            guarded(() -> attempt(false));
        }
    }

    private void unsubscribe() {
        Watches.Entry entry = watch;
        if (entry != null) {
            entry.leave();
        }
    }

    /**
     * Whether the nodes that could still grant the lock are too few for a quorum: the others failed for a
     * reason retrying cannot cure (wrong password, missing permission, a replica, ...). A slow, restarting or
     * full node (TIMEOUT, UNREACHABLE, OUT_OF_MEMORY) may recover, so it never makes a call hopeless.
     */
    private boolean hopeless(Ballot ballot) {
        long broken = ballot.votes().errors().stream().filter(e -> e.reason().isConfiguration()).count();
        return engine.nodes.length - broken < engine.quorum;
    }

    /**
     * The rule telling "busy" from "failed": a call that did not get the lock failed because the lock is busy
     * when another owner held it on a quorum, or on at least one node while enough nodes answered to make a
     * quorum and no node failed for a configuration reason. Redlock's split votes (us on some nodes, another owner on others, a
     * slow or unreachable node or an even count leaving nobody a quorum) are contention: retrying later can
     * succeed. With too few nodes answering it failed, whoever held the rest; and a node failing for a
     * configuration reason (wrong password, missing permission, ...) is always reported, since no retry cures
     * it and hiding it behind "busy" would hide it for good.
     */
    static boolean busy(Votes votes, int quorum) {
        int answered = votes.nodeCount() - votes.failed().size() - votes.unanswered().size();
        boolean misconfigured = votes.errors().stream().anyMatch(e -> e.reason().isConfiguration());
        return votes.heldByOthers().size() >= quorum
                || (!votes.heldByOthers().isEmpty() && answered >= quorum && !misconfigured);
    }

    private void fail(Ballot ballot, long elapsedNanos, long validity, String when) {
        Votes votes = ballot.votes();
        RedsyncException failure;
        String name = mutex.name();
        if (busy(votes, engine.quorum)) {
            long freeIn = ballot.freeInMillis();
            failure = new LockTakenException(name, "lock '" + name + "' is held by another owner on nodes "
                    + votes.heldByOthers() + "; not acquired " + when + " (last attempt " + votes + ")", attempts, votes,
                    freeIn < 0 ? null : Duration.ofMillis(freeIn));
        } else {
            String why = votes.succeeded().size() >= engine.quorum && validity <= 0
                    ? "; the last attempt took " + TimeUnit.NANOSECONDS.toMillis(elapsedNanos) + " ms, leaving no validity of the "
                      + expiryMillis + " ms expiry"
                    : "";
            failure = new LockAcquisitionException(name, "lock '" + name + "' not acquired " + when + ": last attempt "
                    + votes + why, attempts, votes);
        }
        result.completeExceptionally(failure);
        settled.complete(null);
    }

    private void onCancel() {
        Ballot ballot = current;
        if (ballot != null) {
            ballot.abort();
        }
        Timeout next = retry;
        if (next != null && next.cancel()) {
            settled.complete(null);
        }
    }

    /** The Redsync instance is closing: fail the caller now, stop retrying, clean up as on cancellation. */
    void closeNow() {
        if (result.completeExceptionally(new IllegalStateException("Redsync was closed while acquiring lock '" + mutex.name() + "'"))) {
            onCancel();
        }
    }

    /** Runs a step; an unexpected exception fails the call instead of vanishing in a callback. */
    private void guarded(Runnable step) {
        try {
            step.run();
        } catch (RuntimeException | Error e) {
            if (result.completeExceptionally(e)) {
                // Best effort: whatever holds this call's own token is released.
                engine.release(mutex.name(), mutex.key(), value, mutex.order(), false, timeoutNanos, Long.MIN_VALUE)
                        .whenComplete((v, x) -> settled.complete(null));
            } else {
                settled.complete(null);
            }
        }
    }
}
