package io.redsync.internal;

import io.netty.util.Timeout;
import io.redsync.Lease;
import io.redsync.LockOptions;
import io.redsync.spi.LockNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One {@code lock()} or {@code tryLock()} call: the loop around {@link Attempt}s. It owns the tries, the acquire
 * timeout budget, the delays between attempts (never longer than the holder's TTL) and the release notifications
 * that cut a delay short; one attempt's Redlock work is {@link Attempt}'s. Steps run one after another on whichever
 * thread completes the previous one; nothing here blocks.
 *
 * <p>{@link #result} is what the caller sees. {@link #settled} completes once nothing more will be sent to the
 * nodes for this call (the last cleanup answered), so a blocking caller that was interrupted can wait for its
 * partial holds to be released before it throws.
 */
final class AcquireCall implements Waiters.Turn {
    /**
     * The longest a waiter listening for a release sends nothing, whatever it learned about the holder: an
     * announcement lost (a pub/sub connection re-subscribing after a reconnect) costs a waiter at most this.
     */
    static final long LONGEST_QUIET_MILLIS = 5_000;
    private static final long ONE_MILLI = TimeUnit.MILLISECONDS.toNanos(1);

    final CompletableFuture<Lease> result = new CompletableFuture<>();
    final CompletableFuture<Void> settled = new CompletableFuture<>();

    final Engine engine;
    final Target target;
    /**
     * This call's own token ({@link Tokens#forCall}): no other call stores it, so a key holding it was written by
     * this call, and retries and cleanups may refresh or delete it.
     */
    final String value;
    final Duration expiry;
    final Duration drift;
    /** Per node: the previous attempt's cleanup release, complete once it ran there; the next acquire waits for it. */
    final CompletableFuture<?>[] cleanupSent;

    private final MutexImpl mutex;
    private final LockOptions options;
    private final int maxAttempts;
    private final long budgetDeadline;
    private final boolean hasBudget;
    private int attempts;
    /** The attempt in flight until it is decided, so a cancellation can abort it. */
    private volatile Attempt current;
    /** Our token's announcement (computed on the first wait): announcements carrying it are our own releases. */
    private volatile String ownAnnouncement;
    /** This call's place among the waiters for release announcements, from the first wait on; null before. */
    private volatile Waiters.Entry waiting;
    /**
     * The release wake-up this call took and has not used yet: an attempt in flight is followed by an immediate
     * retry, a pending wait is cut short. One the call cannot use (it ends first) passes to the next waiter.
     */
    private final Wakeup wake = new Wakeup(result::isDone);
    /**
     * Whether the attempt in flight counts against {@code tries}. Attempts made because the lock became free (a
     * release was announced, or the look taken once listening found it free) do not: they only try earlier than
     * the wait would have, and a failed one resumes that wait. Otherwise every release would cost each waiter a
     * try, and under contention waiters would run out of tries in milliseconds instead of tries × delay, as
     * redsync's polling gives. No other attempt is made: a call that is never woken makes exactly {@code tries}
     * attempts.
     */
    private volatile boolean counted;
    /** When the next counted attempt is due (System.nanoTime). */
    private long nextCountedAt;
    private volatile Timeout retry;
    /**
     * Until when (System.nanoTime) a due try may be spent without sending ({@link #due}): the last attempt found
     * the lock held by another owner on a quorum, whose release will be announced, and that owner's keys have not
     * expired yet. Set by every failed attempt; at or before {@code now} when it may not.
     */
    private volatile long quietUntil;
    /** Tries spent without sending, for the failure's message. */
    private volatile int unsent;
    /** Whether this call has sent an attempt: only then can it know something a release since made stale. */
    private volatile boolean sentAny;
    /** Whether this call listens: its subscription is active and the look taken then found the lock held. */
    private volatile boolean listening;
    /** The last attempt that failed, for the exception if a try spent without sending ends the call. */
    private volatile Attempt lastFailed;
    /** This call as the listeners know it; null without listeners. */
    private final Telemetry.Call observed;

    AcquireCall(MutexImpl mutex, String value, int maxAttempts) {
        this.mutex = mutex;
        this.engine = mutex.engine();
        this.target = mutex.target();
        this.options = mutex.options();
        this.value = value;
        this.maxAttempts = maxAttempts;
        this.expiry = options.expiry();
        this.drift = options.drift();
        this.cleanupSent = new CompletableFuture<?>[engine.nodes.length];
        Duration budget = options.acquireTimeout().orElse(null);
        this.hasBudget = budget != null;
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
        mutex.calls().register(this);
        settled.whenComplete((v, e) -> {
            mutex.calls().unregister(this);
            mutex.waiters().give(target.key(), this);
            stopWaiting();
        });
        result.whenComplete((lease, error) -> {
            // A wake-up this call took but cannot use goes to the next waiter; after success it was ours.
            String unused = wake.end();
            if (unused != null && error != null) {
                mutex.waiters().pass(target.key(), unused);
            }
            if (error instanceof CancellationException) {
                // The cleanup (aborting the attempt in flight, releasing what it took) runs on a worker, not in
                // the caller's cancel(): cancelling a scope of thousands of waiting calls returned only after
                // every one of them had sent its releases (issue 18). The work stays bounded: what the
                // attempt in flight took, each release bounded by the node timeout.
                Scheduler.WORKERS.execute(this::onCancel);
            }
        });
        // Connecting is not part of an attempt: its clock and node timeouts start once a quorum of the nodes'
        // connections are up (or every connect finished, or the connect timeout passed), so a fresh instance's
        // first call is measured like any other. Within the acquire timeout, if one is set.
        long connectBound = engine.connections.timeoutNanos();
        if (hasBudget) {
            connectBound = Math.min(connectBound, budgetDeadline - System.nanoTime());
        }
        CompletableFuture<Void> connected = engine.connections.connected(connectBound);
        if (connected.isDone()) {
            firstTry();
        } else {
            connected.whenComplete((v, e) -> guarded(this::firstTry));
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
            List<CompletableFuture<?>> sent = new ArrayList<>();
            for (CompletableFuture<?> f : cleanupSent) {
                if (f != null) {
                    sent.add(f);
                }
            }
            return CompletableFuture.allOf(sent.toArray(CompletableFuture<?>[]::new));
        });
    }

    /**
     * The call's first try: sent, unless another call or lease of this instance has the turn on the key
     * ({@link Waiters#othersTurn}). The nodes could then only answer "taken" (or split the vote between the two),
     * so the call joins the waiters first and, if the other still has the turn once it has joined (so a lease's
     * release is sure to wake it), spends the try without sending, as {@link #due} does for a known holder.
     */
    private void firstTry() {
        if (othersTurn(System.nanoTime()) > 0) {
            startWaiting();
            long now = System.nanoTime();
            long othersTurn = othersTurn(now);
            if (othersTurn > 0 && spendUnsentWithin(now, othersTurn + ONE_MILLI)) {
                return;
            }
        }
        attempt(true);
    }

    /**
     * How long at most another call or lease of this instance has the turn on the key from {@code now}, 0 if
     * none has. Only a call that listens for releases waits for it: its wake-up comes through {@link Waiters}.
     */
    private long othersTurn(long now) {
        return options.releaseNotifications() ? mutex.waiters().othersTurn(target.key(), this, now) : 0;
    }

    /**
     * This call's turn on the key lasts while its attempt is in flight, at most the node timeout ({@link Waiters}):
     * past it the attempt is decided, only its cleanup may still be running.
     */
    @Override
    public long endsInNanos(long now) {
        Attempt attempt = current;
        return attempt == null || result.isDone() ? 0 : Math.max(0, attempt.start() + target.timeoutNanos() - now);
    }

    /**
     * Spends the try due now without sending, if it may be, and with it every later try due within
     * {@code horizonNanos}, while the lock is known held (another's turn, or another owner's quiet time): they
     * could only find it held too. One wait then covers them all, ending at the next try due after the horizon, or
     * at the horizon, whichever is first, so a crowd of waiters does not wake the timer once per waiter and retry
     * delay just to spend tries (with an acquire timeout, one try at a time: the call must fail at the try whose
     * wait would pass it, not before). Never the last try, and never when nothing was sent yet and the acquire
     * timeout would end before the next try (every call that fails has asked the nodes at least once, and its
     * exception reports that answer).
     *
     * @return false when the try due now may not be spent (nothing was spent): it is to be sent
     */
    private boolean spendUnsentWithin(long now, long horizonNanos) {
        if (attempts + 1 >= maxAttempts) {
            return false;
        }
        long wait = retryDelayNanos(attempts + 1);
        if (lastFailed == null && hasBudget && now + Math.min(wait, horizonNanos) - budgetDeadline >= 0) {
            return false;
        }
        attempts++;
        unsent++;
        while (!hasBudget && wait < horizonNanos && attempts + 1 < maxAttempts) {
            // The next try is due within the horizon as well: spent now, at no timer of its own.
            attempts++;
            unsent++;
            wait += retryDelayNanos(attempts);
        }
        long delayNanos = Math.min(wait, horizonNanos);
        nextCountedAt = now + delayNanos;
        if (!outOfBudget(now, delayNanos)) {
            waitUntilDue(delayNanos);
        }
        return true;
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
        sentAny = true;
        // Refresh (a key with our token counts as ours) only after a counted try of ours was sent: tries spent
        // unsent wrote nothing.
        Attempt attempt = new Attempt(this, attempts - unsent > 1);
        current = attempt;
        mutex.waiters().take(target.key(), this);
        if (result.isDone()) {
            attempt.abort();
        }
        attempt.await();
    }

    /**
     * The attempt got the lock until {@code deadlineNanos}: the one place a lease is made. Returns false when the
     * caller is gone (cancelled meanwhile); the attempt then gives the lease back.
     */
    boolean granted(long deadlineNanos, long token) {
        current = null;
        LeaseImpl lease = new LeaseImpl(mutex, value, deadlineNanos, token);
        // Adopted before the caller can see the lease, so mutex.unlock() in a continuation finds it.
        // A lease the caller never sees (it cancelled meanwhile) is un-adopted and given back.
        LeaseImpl previous = mutex.adopt(lease);
        engine.telemetry.granted(observed, this, lease);
        // Also before the caller sees it (and may release it): other calls of this instance now wait for it.
        mutex.waiters().take(target.key(), lease);
        if (result.complete(lease)) {
            settled.complete(null);
            return true;
        }
        mutex.unadopt(lease, previous);
        mutex.waiters().give(target.key(), lease);
        return false;
    }

    /** The attempt did not get the lock (or gave it back) and its cleanup answered: end, wait, or try again. */
    void failed(Attempt last) {
        current = null;
        long quiet = options.releaseNotifications() ? Redlock.quietMillis(last.ballot(), LONGEST_QUIET_MILLIS) : -1;
        if (result.isDone()) {
            settled.complete(null);
            return;
        }
        lastFailed = last;
        boolean resumed = !counted; // an announced attempt failed: resume the wait it cut short
        String tried = tried();
        if (!resumed && attempts >= maxAttempts) {
            fail(last, "after " + tried);
            return;
        }
        if (Redlock.hopeless(last.ballot())) {
            fail(last, "after " + tried + ": too few nodes are free of configuration errors to make a quorum, so retrying"
                    + " cannot help (see the node errors)");
            return;
        }
        long now = System.nanoTime();
        quietUntil = now + (quiet < 0 ? 0 : TimeUnit.MILLISECONDS.toNanos(quiet));
        long delayNanos = resumed ? Math.max(0, nextCountedAt - now) : retryDelayNanos();
        // Never wait past the holder's TTL: once its keys expire the lock is free, announced or not.
        long holderTtl = Redlock.holderTtlMillis(last.ballot());
        if (holderTtl >= 0) {
            delayNanos = Math.min(delayNanos, TimeUnit.MILLISECONDS.toNanos(holderTtl + 1));
        }
        nextCountedAt = now + delayNanos;
        if (outOfBudget(now, delayNanos)) {
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
        // What this attempt learned is the instance's: while another owner holds the lock (its release will be
        // announced to this call, which keeps listening), the siblings that waited for this attempt keep waiting
        // too, instead of each asking for themselves.
        mutex.waiters().heldElsewhere(target.key(), this, quiet);
        waitUntilDue(delayNanos);
    }

    /**
     * A counted try is due (on the timer thread). It is sent, unless the attempt could only find the lock still
     * held and it is not the call's last try: either another call or lease of this instance has the turn on the
     * key ({@link #othersTurn}; a lease's release wakes this call directly), or this call listens for the lock's
     * release, the last attempt found it held by another owner on a quorum, and that owner's keys have not expired
     * since ({@link #quietUntil}).
     * The try is then spent without sending (issue 18: thousands of subscribed waiters each polled every retry
     * delay, and the nodes served thousands of scripts per release). The tries keep their schedule, so the call
     * ends when a polling one would have; its last try is always sent, so a call never ends "taken" without having
     * asked at its end. A release announced meanwhile wakes it as before.
     */
    private void due() {
        long now = System.nanoTime();
        if (result.isDone()) {
            attempt(true);
            return;
        }
        long othersTurn = othersTurn(now);
        if (othersTurn == 0 && (!listening || now - quietUntil >= 0)) {
            attempt(true);
            return;
        }
        // Never past the other's turn (a lease's validity, an attempt's node timeout): the lock may be free then.
        if (!spendUnsentWithin(now, othersTurn > 0 ? othersTurn + ONE_MILLI : quietUntil - now)) {
            attempt(true);
        }
    }

    /** Fails the call when the next try, {@code delayNanos} from {@code now}, would start past the acquire timeout. */
    private boolean outOfBudget(long now, long delayNanos) {
        if (hasBudget && now + delayNanos - budgetDeadline >= 0) {
            fail(lastFailed, "within the acquire timeout of " + options.acquireTimeout().orElseThrow() + " ("
                    + tried() + ")");
            return true;
        }
        return false;
    }

    /** Waits {@code delayNanos} for the next counted try, cut short by a release announcement. */
    private void waitUntilDue(long delayNanos) {
        // Before the wait is scheduled, so the wait's attempt never races this call's joining of the waiters.
        startWaiting();
        Timeout next = Scheduler.schedule(() -> guarded(this::due), delayNanos);
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

    /** "n attempts", saying how many of the tries were spent without sending. */
    private String tried() {
        String tried = attempts + (attempts == 1 ? " attempt" : " attempts");
        int notSent = unsent;
        return notSent == 0 ? tried : tried + " (" + notSent + " not sent: the lock stayed held by another owner and"
                + " no release was announced)";
    }

    private long retryDelayNanos() {
        return retryDelayNanos(attempts);
    }

    /** The wait after {@code tried} tries, as the options' policy says. */
    private long retryDelayNanos(int tried) {
        Duration delay = options.retryDelay().delay(tried);
        if (delay == null || delay.isNegative()) {
            throw new IllegalStateException("retryDelay returned " + delay + " for attempt " + tried
                    + " of lock '" + target.lockName() + "'; a retry delay must be a non-negative Duration");
        }
        return delay.toNanos();
    }

    private void fail(Attempt last, String when) {
        result.completeExceptionally(Redlock.acquireFailure(target.lockName(), last, attempts, when));
        settled.complete(null);
    }

    /**
     * On the first wait: join the local waiters for release announcements of this key ({@link Waiters}, fed by the
     * nodes' pub/sub, {@code lettuce.Subscriptions}). A release between our failed attempt and the subscription would
     * be missed: once the first subscription is active, look (GET) whether the lock is free on a quorum now, and try
     * at once if it is. Only a look: an attempt made then whether or not the lock was free would be one more than
     * {@code tries}. No look when the call has sent nothing yet, or a lease of this instance holds the key
     * ({@link #lookWhetherFree}).
     */
    private void startWaiting() {
        if (!options.releaseNotifications() || waiting != null) {
            return;
        }
        ownAnnouncement = LockNode.announcementOf(value);
        Waiters.Entry entry = mutex.waiters().join(target.key(), this::released);
        waiting = entry;
        entry.active().thenRun(this::lookWhetherFree);
        if (settled.isDone()) {
            stopWaiting();
        }
    }

    private void lookWhetherFree() {
        if (result.isDone()) {
            return;
        }
        if (!sentAny || mutex.waiters().heldHere(target.key())) {
            // Nothing to look for. A call that has sent nothing yet (its tries so far were spent while a sibling
            // had the turn) knows nothing a release could have made stale, and every release from now on reaches
            // it. And while a lease of this instance holds the key, a look could only say "held"; that lease's
            // release wakes a waiter here. (Issue 18: a burst of 10,000 calls sent 10,000 looks.)
            listening = true;
            return;
        }
        engine.fanOut(target.patient(), new Operation.Look(target, value)).decided.thenAccept(b -> {
            // From now on no release goes unseen (but for a lost announcement: LONGEST_QUIET_MILLIS).
            listening = true;
            if (Redlock.free(b)) {
                wake.self();
                wakeNow();
            }
        });
    }

    /**
     * A release was announced (on an I/O thread or the timer thread): whether this call takes the wake-up. It does
     * unless the release was its own, it is no longer waiting, or it already holds one; the next waiter is offered
     * it then.
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

    private void stopWaiting() {
        Waiters.Entry entry = waiting;
        if (entry != null) {
            entry.leave();
        }
    }

    private void onCancel() {
        Attempt attempt = current;
        if (attempt != null) {
            attempt.abort();
        }
        Timeout next = retry;
        if (next != null && next.cancel()) {
            settled.complete(null);
        }
    }

    /** The Redsync instance is closing: fail the caller now, stop retrying, clean up as on cancellation. */
    void closeNow() {
        if (result.completeExceptionally(new IllegalStateException("Redsync was closed while acquiring lock '"
                + target.lockName() + "'"))) {
            onCancel();
        }
    }

    /** Runs a step; an unexpected exception fails the call instead of vanishing in a callback. */
    void guarded(Runnable step) {
        try {
            step.run();
        } catch (RuntimeException | Error e) {
            if (result.completeExceptionally(e)) {
                // Best effort: whatever holds this call's own token is released.
                engine.fanOut(target.patient(), new Operation.Release(target, value)).decided
                        .whenComplete((v, x) -> settled.complete(null));
            } else {
                settled.complete(null);
            }
        }
    }
}
