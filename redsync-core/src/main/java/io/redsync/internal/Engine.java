package io.redsync.internal;

import io.redsync.ExtendFailedException;
import io.redsync.LeaseExpiredException;
import io.redsync.LockNotHeldException;
import io.redsync.NodeException;
import io.redsync.UnlockFailedException;
import io.redsync.Votes;
import io.redsync.spi.LockNode;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The quorum engine: fans one operation out to every node in parallel, each call bounded by the node
 * timeout, and decides by quorum. Nothing else in the library counts votes. It never blocks: replies
 * arrive on Lettuce's threads, timeouts and retries on one timer thread.
 */
final class Engine {
    final LockNode[] nodes;
    final int quorum;
    final ScheduledExecutorService timer;
    private final Set<AcquireCall> active = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    Engine(LockNode[] nodes, ScheduledExecutorService timer) {
        this.nodes = nodes;
        this.quorum = nodes.length / 2 + 1;
        this.timer = timer;
    }

    boolean closed() {
        return closed;
    }

    /** Sends {@code call} to every node in {@code order}; the ballot decides when enough have answered. */
    Ballot fanOut(String lockName, int[] order, boolean failFast, long timeoutNanos, String expectedValue,
                  Function<LockNode, CompletionStage<?>> call) {
        Ballot ballot = new Ballot(nodes.length, quorum, failFast, expectedValue);
        for (int node : order) {
            dispatch(ballot, lockName, node, timeoutNanos, call);
        }
        return ballot;
    }

    /** Sends one call to one node, recording its reply, error or timeout in the ballot. */
    private void dispatch(Ballot ballot, String lockName, int node, long timeoutNanos, Function<LockNode, CompletionStage<?>> call) {
        dispatchTo(ballot, node, lockName, node, timeoutNanos, call);
    }

    /** As {@link #dispatch}, recording into ballot entry {@code slot} (a one-node ballot uses slot 0). */
    private void dispatchTo(Ballot ballot, int slot, String lockName, int node, long timeoutNanos,
                            Function<LockNode, CompletionStage<?>> call) {
        if (closed) {
            ballot.failure(slot, nodeError(lockName, node, new IllegalStateException("Redsync is closed")));
            return;
        }
        ScheduledFuture<?> timeout;
        try {
            timeout = timer.schedule(() -> ballot.failure(slot, nodeError(lockName, node,
                    new TimeoutException("no reply within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms (node timeout)"))),
                    timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            ballot.failure(slot, nodeError(lockName, node, new IllegalStateException("Redsync is closed")));
            return;
        }
        CompletionStage<?> stage;
        try {
            stage = call.apply(nodes[node]);
        } catch (RuntimeException e) {
            timeout.cancel(false);
            ballot.failure(slot, nodeError(lockName, node, e));
            return;
        }
        stage.whenComplete((reply, error) -> {
            timeout.cancel(false);
            if (error == null) {
                ballot.reply(slot, reply);
            } else {
                ballot.failure(slot, nodeError(lockName, node, unwrap(error)));
            }
        });
    }

    NodeException nodeError(String lockName, int node, Throwable cause) {
        return cause instanceof NodeException n ? n : new NodeException(lockName, node, nodes[node].address(), cause);
    }

    static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * Releases {@code key} on every node of a failed attempt that may hold it: all but those that
     * answered "held by another owner". Nodes that timed out or had not answered are included (their
     * command may still run; our release, sent on the same connection, runs after it), but only the
     * nodes that granted are waited for: they answered promptly and certainly hold our key, while
     * waiting for a slow node would hold up the caller for a whole node timeout.
     */
    CompletableFuture<Void> cleanup(Ballot ballot, String lockName, String key, String value, int[] order, long timeoutNanos) {
        int granted = 0;
        for (int node : order) {
            if (ballot.decidedState(node) == Ballot.SUCCEEDED) {
                granted++;
            }
        }
        CompletableFuture<?>[] awaited = new CompletableFuture<?>[granted];
        int i = 0;
        for (int node : order) {
            byte state = ballot.decidedState(node);
            if (state == Ballot.OTHER) {
                continue;
            }
            Ballot release = new Ballot(1, 1, false, null);
            dispatchTo(release, 0, lockName, node, timeoutNanos, n -> n.release(key, value));
            if (state == Ballot.SUCCEEDED) {
                awaited[i++] = release.decided;
            }
        }
        return CompletableFuture.allOf(awaited);
    }

    /**
     * Compare-and-delete on every node; completes normally iff a quorum deleted.
     *
     * @param deadlineNanos the lease's validity deadline, to word a failure; {@code Long.MIN_VALUE} if unknown
     */
    CompletableFuture<Void> release(String lockName, String key, String value, int[] order, boolean failFast, long timeoutNanos,
                                    long deadlineNanos) {
        long start = System.nanoTime();
        Ballot ballot = fanOut(lockName, order, failFast, timeoutNanos, null, n -> n.release(key, value));
        return ballot.decided.thenApply(b -> {
            if (b.succeeded() >= quorum) {
                return null;
            }
            Votes votes = b.votes();
            if (!votes.heldByOthers().isEmpty()) {
                throw new LockNotHeldException(lockName, "lock '" + lockName + "' not released: another owner holds it on nodes "
                        + votes.heldByOthers() + " (" + votes + "); the lease was lost before release", votes);
            }
            if (votes.failed().isEmpty() && votes.unanswered().isEmpty()) {
                String why = deadlineNanos != Long.MIN_VALUE && deadlineNanos - start > 0
                        ? "its keys were gone on a majority while the lease was still valid: a node restarted without "
                          + "persistence or the keys were deleted, so others may have acquired it meanwhile"
                        : "the guarded work ran past the lease: use a longer expiry or extend the lease";
                throw new LeaseExpiredException(lockName, "lock '" + lockName + "' had already expired when released ("
                        + votes + "); " + why, votes);
            }
            throw new UnlockFailedException(lockName, "lock '" + lockName + "' not released on a quorum (" + votes
                    + "); its keys expire with their TTL", votes);
        });
    }

    /**
     * Compare-and-PEXPIRE on every node. Completes with the new monotonic deadline iff a quorum extended
     * and validity remains.
     */
    CompletableFuture<Long> extend(String lockName, String key, String value, int[] order, boolean failFast, long timeoutNanos,
                                   long ttlNanos, long driftNanos, boolean setIfAbsent) {
        long start = System.nanoTime();
        long ttlMillis = TimeUnit.NANOSECONDS.toMillis(ttlNanos);
        Ballot ballot = fanOut(lockName, order, failFast, timeoutNanos, null, n -> n.extend(key, value, ttlMillis, setIfAbsent));
        return ballot.decided.thenApply(b -> {
            long now = System.nanoTime();
            long deadline = start + ttlNanos - driftNanos;
            if (b.succeeded() >= quorum && deadline - now > 0) {
                return deadline;
            }
            Votes votes = b.votes();
            if (votes.succeeded().size() >= quorum) {
                throw new ExtendFailedException(lockName, "lock '" + lockName + "' extended too late: the extension took "
                        + TimeUnit.NANOSECONDS.toMillis(now - start) + " ms, leaving no validity of the " + ttlMillis + " ms TTL", votes);
            }
            if (!votes.heldByOthers().isEmpty()) {
                throw new LockNotHeldException(lockName, "lock '" + lockName + "' not extended: another owner holds it on nodes "
                        + votes.heldByOthers() + " (" + votes + ")", votes);
            }
            if (votes.failed().isEmpty() && votes.unanswered().isEmpty()) {
                throw new LeaseExpiredException(lockName, "lock '" + lockName + "' not extended: its keys had expired (" + votes + ")", votes);
            }
            throw new ExtendFailedException(lockName, "lock '" + lockName + "' not extended on a quorum (" + votes + ")", votes);
        });
    }

    /** GET on every node; true iff a quorum holds {@code value}. */
    CompletableFuture<Boolean> check(String lockName, String key, String value, int[] order, boolean failFast, long timeoutNanos) {
        Ballot ballot = fanOut(lockName, order, failFast, timeoutNanos, value, n -> n.get(key));
        return ballot.decided.thenApply(b -> b.succeeded() >= quorum);
    }

    void register(AcquireCall call) {
        active.add(call);
        if (closed) {
            call.closeNow();
        }
    }

    void unregister(AcquireCall call) {
        active.remove(call);
    }

    /** Fails every waiting lock call; the caller then closes the nodes and the timer. */
    void close() {
        closed = true;
        for (AcquireCall call : active) {
            call.closeNow();
        }
    }
}
