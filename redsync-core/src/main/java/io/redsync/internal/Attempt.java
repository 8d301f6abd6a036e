package io.redsync.internal;

import io.redsync.spi.AcquireReply;
import io.redsync.spi.Ownership;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One Redlock attempt of a lock call: the acquire fan-out, the fencing write-back, and, when it did not get the
 * lock, the cleanup of whatever it took. Decided in one place ({@link #decide}); reports to its {@link AcquireCall}
 * through {@link AcquireCall#granted} or, once cleaned up, {@link AcquireCall#failed}.
 */
final class Attempt implements Redlock.Term {
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final AcquireCall call;
    private final Engine engine;
    private final Target target;
    /** The attempt's term: when its acquire was sent, with what TTL and drift allowance. */
    private final long start;
    private final long ttlNanos;
    private final long driftNanos;
    private final Ballot<AcquireReply> ballot;
    private volatile long decidedAt;

    /**
     * Sends the acquire to every node, each after the previous attempt's cleanup release to it ran there.
     *
     * @param refresh whether a key holding this call's token counts as acquired: it can only be there after an
     *                earlier attempt of this call (the token is the call's own). The first attempt needs no refresh,
     *                which lets the node use a plain SET NX.
     */
    Attempt(AcquireCall call, boolean refresh) {
        this.call = call;
        this.engine = call.engine;
        this.target = call.target;
        this.start = System.nanoTime();
        this.ttlNanos = call.expiry.toNanos();
        this.driftNanos = call.drift.toNanos();
        this.ballot = engine.fanOutAfter(target, new Operation.Acquire(target, call.value, ttlMillis(), refresh),
                call.cleanupSent);
    }

    /** Starts deciding once the ballot is decided; {@link #abort()} may come before or after. */
    void await() {
        ballot.decided.thenAccept(b -> call.guarded(this::decide));
    }

    /** The caller gave up: decide now with what arrived (nothing granted then, so everything is cleaned up). */
    void abort() {
        ballot.abort();
    }

    Ballot<AcquireReply> ballot() {
        return ballot;
    }

    Redlock.Term term() {
        return this;
    }

    @Override
    public long start() {
        return start;
    }

    @Override
    public long ttlNanos() {
        return ttlNanos;
    }

    @Override
    public long driftNanos() {
        return driftNanos;
    }

    /** When the attempt was decided (System.nanoTime). */
    long decidedAt() {
        return decidedAt;
    }

    /** The point where an attempt is decided: granted (after the fence, with fencing), or cleaned up. */
    private void decide() {
        decidedAt = System.nanoTime();
        if (!Redlock.granted(ballot, this, decidedAt)) {
            cleanUp();
        } else if (!target.fenced()) {
            grant(-1);
        } else {
            long token = Redlock.fencingToken(ballot);
            engine.fanOutTo(target.patient(), new Operation.Fence(target, call.value, token),
                            node -> ballot.decided(node) == Vote.GRANTED)
                    .decided.thenAccept(written -> call.guarded(() -> {
                        decidedAt = System.nanoTime();
                        if (Redlock.granted(written, this, decidedAt)) {
                            grant(token);
                        } else {
                            cleanUp();
                        }
                    }));
        }
    }

    private void grant(long token) {
        if (!call.granted(deadline(), token)) {
            cleanUp(); // the caller cancelled meanwhile: the lease it never saw is given back
        }
    }

    /**
     * Releases the key on every node that may hold it: all but those that answered "held by another owner", by the
     * decision or later. Nodes that timed out or had not answered are released once their acquire completes, unless
     * its late reply says "held by another owner" or it was never sent; an error or no reply at all counts as "may
     * hold it".
     *
     * <p>Each node's release is sent only once that node's acquire stage has completed (reply, error, or Lettuce's
     * own command timeout). Sending it at once would usually be safe on one ordered connection, but an acquire whose
     * EVALSHA met NOSCRIPT is re-sent as EVAL when that reply arrives, possibly after our release: the key would
     * outlive the failed attempt. In turn the next attempt, which uses the same owner token, must reach a node only
     * after this release was sent there, or the late release would delete the new attempt's key:
     * {@code cleanupSent[node]} completes when it has run (or failed for good), and gates the retry; a retry whose
     * ballot times out meanwhile counts that node as failed, sending nothing.
     *
     * <p>Only nodes that granted are waited for: they answered promptly and certainly hold our key, while waiting
     * for a slow node would hold up the caller for a whole node timeout.
     */
    private void cleanUp() {
        CompletableFuture<?>[] sent = call.cleanupSent;
        CompletableFuture<?>[] awaited = new CompletableFuture<?>[ballot.count(Vote.GRANTED)];
        int i = 0;
        for (int node : target.order()) {
            Vote vote = ballot.decided(node);
            if (vote == Vote.HELD_BY_OTHER) {
                sent[node] = null;
                continue;
            }
            int n = node;
            CompletionStage<?> acquired = ballot.stageOf(node);
            CompletableFuture<?> released;
            if (acquired == null) {
                Ballot<Ownership> release = release(n);
                released = release.decided;
                sent[node] = ranOrFailed(release, n);
            } else {
                // A node that had not answered by the decision (or timed out) may still answer "held by another
                // owner": its acquire wrote nothing then, and there is nothing to release (issue 18: a cancelled
                // attempt sent a release script to every such node, doubling node work in a cancellation storm).
                // Nor where the acquire was never sent (held back behind the previous cleanup past the decision):
                // such releases, each holding back the next retry, kept a 10,000-call burst's node busy for seconds.
                CompletableFuture<Ballot<Ownership>> dispatched = acquired
                        .handle((r, e) -> e == null && wroteNothing(r) ? null : release(n)).toCompletableFuture();
                sent[node] = dispatched.thenCompose(b -> b == null ? DONE : ranOrFailed(b, n));
                released = dispatched.thenCompose(b -> b == null ? CompletableFuture.completedFuture(b) : b.decided);
            }
            if (vote == Vote.GRANTED) {
                awaited[i++] = released;
            }
        }
        CompletableFuture.allOf(awaited).whenComplete((v, e) -> call.guarded(() -> call.failed(this)));
    }

    /**
     * The acquire's outcome proves it wrote nothing: its reply says another owner's key stood there, or it was
     * never sent ({@link Engine#NOT_SENT}). Null (unknown) proves nothing.
     */
    private static boolean wroteNothing(Object reply) {
        return reply == Engine.NOT_SENT || reply instanceof AcquireReply r && !r.acquired();
    }

    private Ballot<Ownership> release(int node) {
        return engine.single(target, node, new Operation.Release(target, call.value));
    }

    /**
     * Completes when a one-node ballot's command has run on the node or failed for good: its own stage, not the
     * ballot's decision, which a timeout may reach first. A release whose EVALSHA meets NOSCRIPT (the node restarted
     * under a live connection, or SCRIPT FLUSH) is re-sent as EVAL only when that reply arrives; the next attempt's
     * acquire, with the same owner token, must reach the node after that EVAL, or it refreshes the key, counts it as
     * granted, and the late EVAL deletes it (found by the soak).
     */
    private static CompletableFuture<Void> ranOrFailed(Ballot<?> single, int node) {
        CompletionStage<?> stage = single.stageOf(node);
        return stage == null ? CompletableFuture.completedFuture(null) : stage.handle((r, e) -> (Void) null).toCompletableFuture();
    }
}
