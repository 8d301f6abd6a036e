package io.redsync.internal;

import io.netty.util.Timeout;
import io.redsync.NodeException;
import io.redsync.Votes;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;

/**
 * The votes on one operation, gathered as they arrive from the nodes (on Lettuce's I/O threads and the timer
 * thread). It is decided once: when every node asked has answered or timed out, when fail-fast sees a quorum
 * either way, or when aborted (the caller cancelled). The decision keeps a snapshot of who had voted what, so
 * later answers cannot change an outcome already acted on. It counts; what the count means is {@link Redlock}'s.
 *
 * @param <R> the operation's reply, kept per node for the rule that reads more than the vote (a holder's TTL)
 */
final class Ballot<R> {
    /**
     * Makes the exception a node's failure is reported with. Called only when someone reads the failures
     * ({@link #votes()}): a partition times out every node call of every waiting call, and an eager
     * {@link NodeException} per node and attempt, with its stack trace and a message of several hundred characters,
     * was most of the heap of 2,000 waiting calls (issue 18).
     */
    interface Errors {
        NodeException of(int node, Throwable cause);
    }

    /** The cause recorded for a node whose call the ballot's timeout ended; {@link Errors} says what it was. */
    static final TimeoutException TIMED_OUT = new TimeoutException("node timeout") {
        private static final long serialVersionUID = 1L;

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    };

    final CompletableFuture<Ballot<R>> decided = new CompletableFuture<>();

    private final int quorum;
    private final boolean failFast;
    /** How many nodes were asked: the ballot is decided when that many answered. */
    private final int asked;
    /** Per node: its vote so far; null while pending. */
    private final Vote[] votes;
    private final Object[] replies;
    /** Per failed node: what it failed with, as recorded ({@link #TIMED_OUT} for a timeout), or once reported, its NodeException. */
    private final Throwable[] errors;
    private final Errors errorsOf;
    /** Each node's call, so a follow-up command can be ordered after it; null where none was sent. */
    private final CompletionStage<?>[] stages;
    private int granted;
    private int heldByOther;
    private int answered;
    private Vote[] snapshot;
    private boolean aborted;
    private Timeout timeout;

    Ballot(int nodeCount, int quorum, boolean failFast, int asked, Errors errorsOf) {
        this.errorsOf = errorsOf;
        this.quorum = quorum;
        this.failFast = failFast;
        this.asked = asked;
        this.votes = new Vote[nodeCount];
        this.replies = new Object[nodeCount];
        this.errors = new Throwable[nodeCount];
        this.stages = new CompletionStage<?>[nodeCount];
    }

    synchronized void stage(int node, CompletionStage<?> stage) {
        stages[node] = stage;
    }

    synchronized CompletionStage<?> stageOf(int node) {
        return stages[node];
    }

    /** Records a node's vote; the first record for a node wins (a reply racing its timeout). */
    void vote(int node, Vote vote, R reply) {
        record(node, vote, reply, null);
    }

    /** Records a node's failure; its NodeException is made only if it is reported ({@link Errors}). */
    void failure(int node, Throwable cause) {
        record(node, Vote.FAILED, null, cause);
    }

    /** Decides now with what has arrived: the caller gave up. */
    void abort() {
        boolean fire;
        synchronized (this) {
            fire = snapshot == null;
            if (fire) {
                aborted = true;
                snapshot = votes.clone();
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

    /** The timeout fired: every node asked and still unanswered counts as failed. */
    void expire(int[] nodes) {
        for (int node : nodes) {
            boolean pending;
            synchronized (this) {
                pending = votes[node] == null;
            }
            if (pending) {
                failure(node, TIMED_OUT);
            }
        }
    }

    /** Completes the decision, never on the timer thread (see {@link Scheduler}). */
    private void complete() {
        Timeout t;
        synchronized (this) {
            t = timeout;
            timeout = null;
        }
        if (t != null) {
            t.cancel();
        }
        Scheduler.offTimer(() -> decided.complete(this));
    }

    private void record(int node, Vote vote, Object reply, Throwable error) {
        boolean fire = false;
        synchronized (this) {
            if (votes[node] != null) {
                return;
            }
            votes[node] = vote;
            replies[node] = reply;
            errors[node] = error;
            answered++;
            if (vote == Vote.GRANTED) {
                granted++;
            } else if (vote == Vote.HELD_BY_OTHER) {
                heldByOther++;
            }
            if (snapshot == null && (answered == asked || failFast && (granted >= quorum || heldByOther >= quorum))) {
                snapshot = votes.clone();
                fire = true;
            }
        }
        // Complete outside the lock: dependants run inline and may start more node calls.
        if (fire) {
            complete();
        }
    }

    synchronized boolean isDecided() {
        return snapshot != null;
    }

    synchronized boolean aborted() {
        return aborted;
    }

    int quorum() {
        return quorum;
    }

    int nodeCount() {
        return votes.length;
    }

    /** The decided vote of one node (null: not answered by the decision). Only valid after the decision. */
    synchronized Vote decided(int node) {
        return snapshot[node];
    }

    /** How many nodes decided {@code vote}. Only valid after the decision. */
    synchronized int count(Vote vote) {
        int n = 0;
        for (Vote v : snapshot) {
            if (v == vote) {
                n++;
            }
        }
        return n;
    }

    /** The vote recorded for a node so far, decided or not (null: none yet). */
    synchronized Vote recorded(int node) {
        return votes[node];
    }

    /** The reply a node voted with; null for a failure or none yet. */
    @SuppressWarnings("unchecked")
    synchronized R reply(int node) {
        return (R) replies[node];
    }

    /** How many nodes decided {@link Vote#FAILED} for a configuration reason; without making their exceptions. */
    synchronized int misconfigured() {
        int n = 0;
        for (int i = 0; i < snapshot.length; i++) {
            if (snapshot[i] == Vote.FAILED && NodeException.Reason.of(errors[i]).isConfiguration()) {
                n++;
            }
        }
        return n;
    }

    /** The decided votes, for exceptions and users. */
    synchronized Votes votes() {
        List<Integer> ok = new ArrayList<>();
        List<Integer> others = new ArrayList<>();
        List<Integer> absent = new ArrayList<>();
        List<Integer> failed = new ArrayList<>();
        List<Integer> unanswered = new ArrayList<>();
        List<NodeException> errs = new ArrayList<>();
        for (int i = 0; i < snapshot.length; i++) {
            if (snapshot[i] == null) {
                unanswered.add(i);
                continue;
            }
            switch (snapshot[i]) {
                case GRANTED -> ok.add(i);
                case HELD_BY_OTHER -> others.add(i);
                case ABSENT -> absent.add(i);
                case FAILED -> {
                    failed.add(i);
                    NodeException error = errors[i] instanceof NodeException n ? n : errorsOf.of(i, errors[i]);
                    errors[i] = error;
                    errs.add(error);
                }
            }
        }
        return new Votes(snapshot.length, quorum, ok, others, absent, failed, unanswered, errs);
    }
}
