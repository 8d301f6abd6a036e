package io.redsync.internal;

import io.netty.util.Timeout;
import io.redsync.NodeException;
import io.redsync.Votes;
import io.redsync.spi.AcquireReply;
import io.redsync.spi.Ownership;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.IntFunction;

/**
 * The answers to one quorum operation, gathered as they arrive from the nodes (on Lettuce's I/O threads
 * and the timer thread). It is decided once: when every node has answered or timed out, when fail-fast
 * sees a quorum either way, or when aborted (the caller cancelled). The decision keeps a snapshot of who
 * had answered what, so later answers cannot change an outcome already acted on.
 */
final class Ballot {
    static final byte PENDING = 0;
    static final byte SUCCEEDED = 1;
    static final byte OTHER = 2;
    static final byte ABSENT = 3;
    static final byte FAILED = 4;

    final CompletableFuture<Ballot> decided = new CompletableFuture<>();

    private final int quorum;
    private final boolean failFast;
    private final String expectedValue;
    private final byte[] state;
    private final NodeException[] errors;
    /** Each node's call, so a follow-up command can be ordered after it; null where none was sent. */
    private final CompletionStage<?>[] stages;
    private int succeeded;
    private int other;
    private int answered;
    private long maxHolderTtlMillis = -1;
    /** Per node: the other owner's PTTL when it answered "held by another owner", else -1. */
    private final long[] holderTtls;
    private long maxCounter;
    private byte[] snapshot;
    private boolean aborted;
    private Timeout timeout;

    /**
     * @param expectedValue for a check ({@code GET}) ballot: the value that counts as held; else null
     */
    Ballot(int nodeCount, int quorum, boolean failFast, String expectedValue) {
        this.quorum = quorum;
        this.failFast = failFast;
        this.expectedValue = expectedValue;
        this.state = new byte[nodeCount];
        this.errors = new NodeException[nodeCount];
        this.stages = new CompletionStage<?>[nodeCount];
        this.holderTtls = new long[nodeCount];
        java.util.Arrays.fill(holderTtls, -1);
    }

    synchronized void stage(int node, CompletionStage<?> stage) {
        stages[node] = stage;
    }

    synchronized CompletionStage<?> stageOf(int node) {
        return stages[node];
    }

    /** Records a node's reply; the first record for a node wins (a reply racing its timeout). */
    void reply(int node, Object reply) {
        byte category;
        long holderTtl = -1;
        if (reply instanceof AcquireReply a) {
            category = a.acquired() ? SUCCEEDED : OTHER;
            holderTtl = a.holderTtlMillis();
            if (a.acquired() && a.fencingCounter() > 0) {
                synchronized (this) {
                    maxCounter = Math.max(maxCounter, a.fencingCounter());
                }
            }
        } else if (reply instanceof Ownership o) {
            category = o == Ownership.MINE ? SUCCEEDED : o == Ownership.OTHER ? OTHER : ABSENT;
        } else if (expectedValue != null) {
            category = reply == null ? ABSENT : Objects.equals(reply, expectedValue) ? SUCCEEDED : OTHER;
        } else {
            throw new IllegalStateException("unexpected node reply " + reply);
        }
        record(node, category, null, holderTtl);
    }

    void failure(int node, NodeException error) {
        record(node, FAILED, error, -1);
    }

    /** Decides now with what has arrived: the caller gave up. */
    void abort() {
        boolean fire;
        synchronized (this) {
            fire = snapshot == null;
            if (fire) {
                aborted = true;
                snapshot = state.clone();
            }
        }
        if (fire) {
            complete();
        }
    }

    /** Attaches the ballot's timeout, cancelled once decided (at once if decided already). */
    void arm(Timeout t) {
        boolean done;
        synchronized (this) {
            done = snapshot != null;
            if (!done) {
                timeout = t;
            }
        }
        if (done) {
            t.cancel();
        }
    }

    /** The timeout fired: every node still unanswered counts as failed. */
    void expire(IntFunction<NodeException> errorFor) {
        for (int slot = 0; slot < state.length; slot++) {
            boolean pending;
            synchronized (this) {
                pending = state[slot] == PENDING;
            }
            if (pending) {
                failure(slot, errorFor.apply(slot));
            }
        }
    }

    /** Completes the decision, never on the timer thread (see {@link Engine}). */
    private void complete() {
        Timeout t;
        synchronized (this) {
            t = timeout;
            timeout = null;
        }
        if (t != null) {
            t.cancel();
        }
        if (Engine.onTimerThread()) {
            Engine.WORKERS.execute(() -> decided.complete(this));
        } else {
            decided.complete(this);
        }
    }

    private void record(int node, byte category, NodeException error, long holderTtl) {
        boolean fire = false;
        synchronized (this) {
            if (state[node] != PENDING) {
                return;
            }
            state[node] = category;
            errors[node] = error;
            answered++;
            if (category == SUCCEEDED) {
                succeeded++;
            } else if (category == OTHER) {
                other++;
                maxHolderTtlMillis = Math.max(maxHolderTtlMillis, holderTtl);
                holderTtls[node] = holderTtl;
            }
            if (snapshot == null && (answered == state.length || failFast && (succeeded >= quorum || other >= quorum))) {
                snapshot = state.clone();
                fire = true;
            }
        }
        // Complete outside the lock: dependants run inline and may start more node calls.
        if (fire) {
            complete();
        }
    }

    /** Number of nodes that succeeded when the ballot was decided. Only valid after the decision. */
    synchronized int succeeded() {
        return count(SUCCEEDED);
    }

    synchronized boolean isDecided() {
        return snapshot != null;
    }

    synchronized boolean aborted() {
        return aborted;
    }

    /** The decided state of one node. Only valid after the decision. */
    synchronized byte decidedState(int node) {
        return snapshot[node];
    }

    synchronized long maxHolderTtlMillis() {
        return maxHolderTtlMillis;
    }

    /**
     * How long until enough of the other owner's keys expire for a quorum of nodes to be free, from the TTLs
     * the decided "held by another owner" answers reported: the k-th shortest, where k is how many of those
     * keys must go. -1 when unknown (a key without TTL, or not enough answers).
     */
    synchronized long freeInMillis() {
        long[] ttls = new long[snapshot.length];
        int n = 0;
        for (int i = 0; i < snapshot.length; i++) {
            if (snapshot[i] == OTHER) {
                if (holderTtls[i] < 0) {
                    return -1;
                }
                ttls[n++] = holderTtls[i];
            }
        }
        int mustExpire = quorum - (snapshot.length - n);
        if (mustExpire <= 0) {
            return 0;
        }
        java.util.Arrays.sort(ttls, 0, n);
        return ttls[mustExpire - 1];
    }

    /** The highest fencing counter read from a granting node (0 if none was set). */
    synchronized long maxCounter() {
        return maxCounter;
    }

    private int count(byte category) {
        int n = 0;
        for (byte b : snapshot) {
            if (b == category) {
                n++;
            }
        }
        return n;
    }

    /** The decided votes, for exceptions. */
    synchronized Votes votes() {
        List<Integer> ok = new ArrayList<>();
        List<Integer> others = new ArrayList<>();
        List<Integer> absent = new ArrayList<>();
        List<Integer> failed = new ArrayList<>();
        List<Integer> unanswered = new ArrayList<>();
        List<NodeException> errs = new ArrayList<>();
        for (int i = 0; i < snapshot.length; i++) {
            switch (snapshot[i]) {
                case SUCCEEDED -> ok.add(i);
                case OTHER -> others.add(i);
                case ABSENT -> absent.add(i);
                case FAILED -> {
                    failed.add(i);
                    errs.add(errors[i]);
                }
                default -> unanswered.add(i);
            }
        }
        return new Votes(snapshot.length, quorum, ok, others, absent, failed, unanswered, errs);
    }
}
