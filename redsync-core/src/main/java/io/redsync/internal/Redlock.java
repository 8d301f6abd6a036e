package io.redsync.internal;

import io.redsync.ExtendFailedException;
import io.redsync.LeaseExpiredException;
import io.redsync.LockAcquisitionException;
import io.redsync.LockNotHeldException;
import io.redsync.LockTakenException;
import io.redsync.RedsyncException;
import io.redsync.UnlockFailedException;
import io.redsync.Votes;
import io.redsync.spi.AcquireReply;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Redlock's rules, in the order of the description (redis.io, "Distributed Locks with Redis"): how long a lease
 * is valid, what a decided {@link Ballot} means for acquire, fence, extend and release, and which exception each
 * outcome is. Pure: no I/O, no clock of its own (callers pass {@link System#nanoTime()} values); the engine counts
 * votes, these rules read the count. Nothing else in the library computes validity or decides what the votes on a
 * lock operation mean (the read-only {@code holderTtl()} query keeps its rule beside it, in {@link HolderQuery}).
 */
final class Redlock {
    private Redlock() {
    }

    // ---- 1. Time: a lease is valid for the TTL, minus the time it took to get, minus the clock drift ----

    /** Redis expires keys with about 1 ms precision; the Redlock description adds 2 ms to the drift for it. */
    private static final Duration EXPIRY_PRECISION = Duration.ofMillis(2);

    /** The validity a lease loses to clock drift: {@code ttl × driftFactor + 2 ms}. */
    static Duration drift(Duration ttl, double driftFactor) {
        return Duration.ofNanos((long) (ttl.toNanos() * driftFactor)).plus(EXPIRY_PRECISION);
    }

    /**
     * A TTL sent to the nodes at {@code start}: its lease is valid until {@code start + ttl − drift}. Counting from
     * the moment the command was sent, not answered, never overstates what the nodes give.
     */
    record Term(long start, long ttlNanos, long driftNanos) {
        static Term from(long start, Duration ttl, Duration drift) {
            return new Term(start, ttl.toNanos(), drift.toNanos());
        }

        long deadline() {
            return start + ttlNanos - driftNanos;
        }

        long ttlMillis() {
            return TimeUnit.NANOSECONDS.toMillis(ttlNanos);
        }
    }

    /** A TTL the nodes can keep: positive, in whole milliseconds (Redis sets TTLs in ms). {@code name} names the field. */
    static void checkTtl(String name, Duration ttl) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException(name + " must be > 0, was " + ttl);
        }
        if (ttl.getNano() % 1_000_000 != 0) {
            throw new IllegalArgumentException(name + " must be a whole number of milliseconds (Redis sets TTLs in ms), was " + ttl);
        }
    }

    /** A TTL that leaves validity: at least twice the drift it implies. Returns that drift. */
    static Duration checkAboveDrift(String name, Duration ttl, double driftFactor) {
        Duration drift = drift(ttl, driftFactor);
        if (ttl.compareTo(drift.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException(name + " must be at least 2 × drift (" + name + " × driftFactor + 2 ms = "
                    + drift.toNanos() / 1e6 + " ms), was " + ttl + "; use a longer " + name + " or a smaller driftFactor");
        }
        return drift;
    }

    /**
     * How long a call may take to settle once it is told to stop (interrupt, close): the attempt in flight, then its
     * cleanup, each bounded by the node timeout, plus a second of scheduling slack on a loaded machine.
     */
    static long settleBoundNanos(long nodeTimeoutNanos) {
        return 2 * nodeTimeoutNanos + TimeUnit.SECONDS.toNanos(1);
    }

    // ---- 2. Acquire: SET NX PX on every node; held iff a quorum granted and validity remains ----

    // region README engine-rule
    /** The quorum granted, the caller did not give up, and validity remains at {@code now}. Also the fence's rule. */
    static boolean granted(Ballot<?> ballot, Term term, long now) {
        return !ballot.aborted() && ballot.count(Vote.GRANTED) >= ballot.quorum() && term.deadline() - now > 0;
    }
    // endregion

    /**
     * Fencing: the token is the highest counter among the granting nodes, plus one, written back to a quorum (where
     * our key still stands) before the lease is returned. Any later lease's quorum overlaps this one in a node whose
     * counter is then at least this token, so its token will be higher.
     */
    static long fencingToken(Ballot<AcquireReply> granted) {
        long max = 0;
        for (int node = 0; node < granted.nodeCount(); node++) {
            if (granted.decided(node) == Vote.GRANTED) {
                max = Math.max(max, granted.reply(node).fencingCounter());
            }
        }
        return max + 1;
    }

    /** The longest TTL another owner's keys reported so far, or -1: a waiter never waits longer (the lock is free then). */
    static long holderTtlMillis(Ballot<AcquireReply> ballot) {
        long max = -1;
        for (int node = 0; node < ballot.nodeCount(); node++) {
            if (ballot.recorded(node) == Vote.HELD_BY_OTHER) {
                max = Math.max(max, ballot.reply(node).holderTtlMillis());
            }
        }
        return max;
    }

    /**
     * How long until enough of the other owner's keys expire for a quorum of nodes to be free: the k-th shortest
     * decided holder TTL, where k is how many of those keys must go. -1 when unknown (a key without TTL, or too few).
     */
    static long freeInMillis(Ballot<AcquireReply> ballot) {
        long[] ttls = new long[ballot.nodeCount()];
        int n = 0;
        for (int node = 0; node < ttls.length; node++) {
            if (ballot.decided(node) == Vote.HELD_BY_OTHER) {
                long ttl = ballot.reply(node).holderTtlMillis();
                if (ttl < 0) {
                    return -1;
                }
                ttls[n++] = ttl;
            }
        }
        int mustExpire = ballot.quorum() - (ttls.length - n);
        if (mustExpire <= 0) {
            return 0;
        }
        Arrays.sort(ttls, 0, n);
        return ttls[mustExpire - 1];
    }

    /**
     * How long a waiter subscribed to release announcements may send nothing after this failed attempt: until
     * enough of the other owner's keys expire for a quorum to be free ({@link #freeInMillis}), at most
     * {@code longestMillis} (a key without TTL, or announcements lost). Only when another owner held it on a quorum:
     * that owner's release is announced. After a split vote or failed nodes there is nothing certain to be announced,
     * and the waiter polls: -1.
     */
    static long quietMillis(Ballot<AcquireReply> ballot, long longestMillis) {
        if (ballot.count(Vote.HELD_BY_OTHER) < ballot.quorum()) {
            return -1;
        }
        long freeIn = freeInMillis(ballot);
        return freeIn < 0 ? longestMillis : Math.min(freeIn, longestMillis);
    }

    /** A look (GET) found the lock free: absent, or still ours from an earlier attempt, on a quorum. */
    static boolean free(Ballot<?> look) {
        return look.count(Vote.ABSENT) + look.count(Vote.GRANTED) >= look.quorum();
    }

    /**
     * Whether the nodes that could still grant are too few for a quorum: the others failed for a reason retrying
     * cannot cure (wrong password, missing permission, a replica, ...). A slow, restarting or full node (TIMEOUT,
     * UNREACHABLE, OUT_OF_MEMORY) may recover, so it never makes a call hopeless.
     */
    static boolean hopeless(Ballot<?> ballot) {
        return ballot.nodeCount() - ballot.misconfigured() < ballot.quorum();
    }

    /**
     * "Busy" vs "failed": busy when another owner held it on a quorum, or on at least one node while enough nodes
     * answered to make a quorum and no node failed for a configuration reason. Redlock's split votes (us on some
     * nodes, another owner on others, a slow node or an even count leaving nobody a quorum) are contention:
     * retrying later can succeed. With too few nodes answering it failed, whoever held the rest; a configuration
     * error is always reported, since no retry cures it and hiding it behind "busy" would hide it for good.
     */
    static boolean busy(Votes votes) {
        int answered = votes.nodeCount() - votes.failed().size() - votes.unanswered().size();
        boolean misconfigured = votes.errors().stream().anyMatch(e -> e.reason().isConfiguration());
        return votes.heldByOthers().size() >= votes.quorum()
                || (!votes.heldByOthers().isEmpty() && answered >= votes.quorum() && !misconfigured);
    }

    /** Why a lock call ended without the lock, after {@code attempts}; {@code when} says how it ended. */
    static RedsyncException acquireFailure(String lockName, Attempt last, int attempts, String when) {
        Votes votes = last.ballot().votes();
        if (busy(votes)) {
            long freeIn = freeInMillis(last.ballot());
            return new LockTakenException(lockName, "lock '" + lockName + "' is held by another owner on nodes "
                    + votes.heldByOthers() + "; not acquired " + when + " (last attempt " + votes + ")", attempts, votes,
                    freeIn < 0 ? null : Duration.ofMillis(freeIn));
        }
        String why = votes.succeeded().size() >= votes.quorum() && last.term().deadline() - last.decidedAt() <= 0
                ? "; the last attempt took " + TimeUnit.NANOSECONDS.toMillis(last.decidedAt() - last.term().start())
                  + " ms, leaving no validity of the " + last.term().ttlMillis() + " ms expiry"
                : "";
        return new LockAcquisitionException(lockName, "lock '" + lockName + "' not acquired " + when + ": last attempt "
                + votes + why, attempts, votes);
    }

    /** {@code valid()}: a quorum holds our value (a look, {@link Operation#look}). */
    static boolean held(Ballot<?> look) {
        return look.count(Vote.GRANTED) >= look.quorum();
    }

    /**
     * The one token made with a preset value ({@link Operation#lookMadeWith}) that stands on a quorum, if any: an
     * extension or {@code valid()} by a preset value then acts on that one lock call's keys only, never on a mix
     * of several calls' minorities.
     */
    static Optional<String> tokenOnQuorum(Ballot<String> look) {
        Map<String, Integer> held = new HashMap<>();
        for (int node = 0; node < look.nodeCount(); node++) {
            if (look.decided(node) == Vote.GRANTED) {
                held.merge(look.reply(node), 1, Integer::sum);
            }
        }
        return held.entrySet().stream().filter(e -> e.getValue() >= look.quorum()).map(Map.Entry::getKey).findFirst();
    }

    // ---- 3. Extend: compare-and-PEXPIRE; the new deadline iff a quorum extended and validity remains ----

    /** The new deadline, or the exception saying why not; {@code now}: when the ballot was decided. */
    static long extended(String lockName, Ballot<?> ballot, Term term, long now) {
        if (ballot.count(Vote.GRANTED) >= ballot.quorum() && term.deadline() - now > 0) {
            return term.deadline();
        }
        Votes votes = ballot.votes();
        if (votes.succeeded().size() >= votes.quorum()) {
            throw new ExtendFailedException(lockName, "lock '" + lockName + "' extended too late: the extension took "
                    + TimeUnit.NANOSECONDS.toMillis(now - term.start()) + " ms, leaving no validity of the "
                    + term.ttlMillis() + " ms TTL", votes);
        }
        if (lostQuorum(votes) && !votes.heldByOthers().isEmpty()) {
            throw new LockNotHeldException(lockName, "lock '" + lockName + "' not extended: another owner holds it on nodes "
                    + votes.heldByOthers() + " (" + votes + ")", votes);
        }
        if (lostQuorum(votes)) {
            throw new LeaseExpiredException(lockName, "lock '" + lockName + "' not extended: its keys were gone on a majority, "
                    + "expired or deleted (" + votes + ")", votes);
        }
        throw new ExtendFailedException(lockName, "lock '" + lockName + "' not extended on a quorum (" + votes + ")", votes);
    }

    /**
     * Whether a failed extension means the lease is gone for good: another owner holds it, or its keys are gone, on
     * so many nodes that no quorum can hold them (votes present: the nodes answered; without votes the lease had
     * only run out locally).
     */
    static boolean refused(Throwable cause) {
        return cause instanceof LockNotHeldException || cause instanceof LeaseExpiredException e && e.votes() != null;
    }

    /**
     * A keeper's look between extensions: the keys are gone or another owner's on so many nodes that the rest cannot
     * make a quorum. With {@code setIfAbsent} missing keys are re-created by the next extension: only another
     * owner's count. Node failures decide nothing (the extension will tell).
     */
    static boolean lostOnLook(Votes votes, boolean setIfAbsent) {
        int gone = votes.heldByOthers().size() + (setIfAbsent ? 0 : votes.absent().size());
        return votes.nodeCount() - gone < votes.quorum();
    }

    // ---- 4. Release: compare-and-delete on every node; released iff a quorum deleted ----

    /**
     * Completes normally iff a quorum deleted; else the exception saying why.
     *
     * @param wasValid whether the lease was still valid when the release was sent (false when unknown)
     */
    static Void released(String lockName, Ballot<?> ballot, boolean wasValid) {
        if (ballot.count(Vote.GRANTED) >= ballot.quorum()) {
            return null;
        }
        Votes votes = ballot.votes();
        if (lostQuorum(votes) && !votes.heldByOthers().isEmpty()) {
            throw new LockNotHeldException(lockName, "lock '" + lockName + "' not released: another owner holds it on nodes "
                    + votes.heldByOthers() + " (" + votes + "); the lease was lost before release", votes);
        }
        if (lostQuorum(votes)) {
            String why = wasValid
                    ? "its keys were gone on a majority while the lease was still valid: a node restarted without "
                      + "persistence or the keys were deleted, so others may have acquired it meanwhile"
                    : "the guarded work ran past the lease: use a longer expiry or extend the lease";
            throw new LeaseExpiredException(lockName, "lock '" + lockName + "' had already expired when released ("
                    + votes + "); " + why, votes);
        }
        throw new UnlockFailedException(lockName, "lock '" + lockName + "' not released on a quorum (" + votes
                + "); its keys expire with their TTL", votes);
    }

    /**
     * Whether the lease is known to be gone: our key was absent or another owner's on so many nodes that the nodes
     * which failed could not make up a quorum even if they still held it. Another owner on a minority is not enough:
     * a contender's attempt may hold a node we lost, while the nodes that failed still hold ours (a release timing
     * out on two nodes of three was once reported as "another owner holds it").
     */
    static boolean lostQuorum(Votes votes) {
        return votes.nodeCount() - votes.absent().size() - votes.heldByOthers().size() < votes.quorum();
    }
}
