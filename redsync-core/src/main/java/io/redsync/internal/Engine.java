package io.redsync.internal;

import io.netty.util.Timeout;
import io.netty.util.TimerTask;
import io.redsync.NodeException;
import io.redsync.spi.LockNode;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntPredicate;

/**
 * The quorum engine: fans one {@link Operation} out to the nodes in parallel, bounds each call by the target's
 * node timeout, and counts the votes in a {@link Ballot}. That is all it does: what a decided ballot means is
 * {@link Redlock}'s, when to try again is {@link AcquireCall}'s, and its timer is {@link Scheduler}'s. It never
 * blocks: replies arrive on Lettuce's I/O threads, timeouts on the timer.
 *
 * <p>Every node call of the library goes through {@code Round.send}: the one place a node call is sent and
 * its answer (reply, error or timeout) recorded.
 */
final class Engine {
    /**
     * What a node's stage completes with when its call, held back until an earlier command had run there
     * ({@link #fanOutAfter}), was never sent because the ballot was decided first.
     */
    static final Object NOT_SENT = new Object() {
        @Override
        public String toString() {
            return "not sent";
        }
    };

    final LockNode[] nodes;
    final int quorum;
    final Connections connections;
    /** Nothing is sent any more. */
    private volatile boolean closed;

    /** Tells the instance's listeners what the locks do; {@link Telemetry#NONE} without any. */
    final Telemetry telemetry;

    Engine(LockNode[] nodes, long connectTimeoutNanos) {
        this(nodes, connectTimeoutNanos, Telemetry.NONE);
    }

    Engine(LockNode[] nodes, long connectTimeoutNanos, Telemetry telemetry) {
        this.telemetry = telemetry;
        this.nodes = nodes;
        this.quorum = nodes.length / 2 + 1;
        this.connections = new Connections(nodes, quorum, connectTimeoutNanos);
    }

    /** Sends {@code op} to every node in the target's order; the ballot decides when enough have answered. */
    <R> Ballot<R> fanOut(Target target, Operation<R> op) {
        Round<R> round = new Round<>(target, op, quorum, target.failFast(), nodes.length, target.order());
        for (int node : target.order()) {
            round.send(node);
        }
        return round.arm();
    }

    /**
     * As {@link #fanOut}; a node whose {@code gates} entry is not complete yet gets its call only once it is (the
     * ballot's timeout still bounds the wait), so a command can be ordered after one not yet sent.
     */
    <R> Ballot<R> fanOutAfter(Target target, Operation<R> op, CompletableFuture<?>[] gates) {
        Round<R> round = new Round<>(target, op, quorum, target.failFast(), nodes.length, target.order());
        for (int node : target.order()) {
            CompletableFuture<?> gate = gates[node];
            if (gate == null || gate.isDone()) {
                round.send(node);
            } else {
                round.sendAfter(node, gate);
            }
        }
        return round.arm();
    }

    /** As {@link #fanOut} without fail-fast, to the nodes {@code asked} accepts; the others vote absent unasked. */
    <R> Ballot<R> fanOutTo(Target target, Operation<R> op, IntPredicate asked) {
        Round<R> round = new Round<>(target, op, quorum, false, nodes.length, target.order());
        for (int node : target.order()) {
            if (asked.test(node)) {
                round.send(node);
            } else {
                round.vote(node, Vote.ABSENT, null);
            }
        }
        return round.arm();
    }

    /** {@code op} on one node alone, bounded by the timeout: a one-vote ballot. */
    <R> Ballot<R> single(Target target, int node, Operation<R> op) {
        Round<R> round = new Round<>(target, op, 1, false, 1, new int[] {node});
        round.send(node);
        return round.arm();
    }

    /** Stops sending: every later node call fails at once. */
    void stop() {
        closed = true;
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
     * One fan-out: the ballot its votes go to, with its target and operation, and the timer task that bounds it. One
     * object per node call round (this runs twice per lock and unlock, so what it allocates shows in the figures).
     */
    private final class Round<R> extends Ballot<R> implements TimerTask {
        final Target target;
        final Operation<R> op;
        /** The nodes asked, in order. */
        private final int[] askedNodes;

        Round(Target target, Operation<R> op, int quorum, boolean failFast, int asked, int[] askedNodes) {
            super(nodes.length, quorum, failFast, asked);
            this.target = target;
            this.op = op;
            this.askedNodes = askedNodes;
        }

        /** One timeout for the whole ballot: every node asked and still unanswered then counts as failed. */
        Ballot<R> arm() {
            arm(Scheduler.scheduleTask(this, target.timeoutNanos()));
            return this;
        }

        /** The ballot's timeout (on the timer thread). */
        @Override
        public void run(Timeout timeout) {
            Scheduler.runSafely(this::expire, "the redsync timer");
        }

        private void expire() {
            for (int node : askedNodes) {
                expire(node);
            }
        }

        private void expire(int node) {
            if (recorded(node) == null) {
                failure(node, TIMED_OUT);
            }
        }

        /** Only when the failure is reported: most are never looked at (see {@link Ballot}). */
        @Override
        NodeException reported(int node, Throwable cause) {
            return nodeError(target.lockName(), node, cause != TIMED_OUT ? cause : new NodeTimeoutException(
                    "no reply within " + TimeUnit.NANOSECONDS.toMillis(target.timeoutNanos()) + " ms (node timeout)"));
        }

        /**
         * Until the call is sent, the node's stage is a placeholder completing after it (with its reply), so a
         * cleanup (which follows the stage) cannot overtake a call sent late. A call whose ballot was decided
         * meanwhile is not sent at all: it could only leave a key behind. Its placeholder then completes with
         * {@link #NOT_SENT}, and a cleanup sends nothing there: nothing was written.
         */
        void sendAfter(int node, CompletableFuture<?> gate) {
            CompletableFuture<Object> placeholder = new CompletableFuture<>();
            stage(node, placeholder);
            gate.whenComplete((v, e) -> {
                if (isDecided()) {
                    placeholder.complete(NOT_SENT);
                    return;
                }
                CompletionStage<?> sent = call(node);
                if (sent == null) {
                    placeholder.complete(null);
                } else {
                    // With the call's reply (null after an error), so a cleanup can read a late answer.
                    sent.whenComplete((r, x) -> placeholder.complete(x == null ? r : null));
                }
            });
        }

        void send(int node) {
            stage(node, call(node));
        }

        /**
         * Sends the call to one node, recording its vote or failure.
         *
         * @return the call's stage, or null when nothing was sent (closed, or the node failed synchronously)
         */
        private CompletionStage<?> call(int node) {
            if (closed) {
                fail(node, new IllegalStateException("Redsync is closed"));
                return null;
            }
            SameServerException same = connections.sameServer(node);
            if (same != null) {
                fail(node, same);
                return null;
            }
            CompletableFuture<Void> connecting = connections.pending(node);
            if (connecting != null) {
                // Still connecting (an attempt starts once a quorum is up): the command goes out once this node's
                // connect and its same-server check are done, so a second address of one server never votes; the
                // ballot's timeout bounds the wait as for any slow node.
                CompletableFuture<R> later = connecting.handle((v, e) -> (Void) null).thenCompose(v -> {
                    SameServerException found = connections.sameServer(node);
                    if (found != null) {
                        return CompletableFuture.failedFuture(found);
                    }
                    if (closed) {
                        return CompletableFuture.failedFuture(new IllegalStateException("Redsync is closed"));
                    }
                    return op.send(nodes[node]);
                });
                later.whenComplete((reply, error) -> answered(node, reply, error));
                return later;
            }
            CompletionStage<R> stage;
            try {
                stage = op.send(nodes[node]);
            } catch (RuntimeException e) {
                fail(node, e);
                return null;
            }
            stage.whenComplete((reply, error) -> answered(node, reply, error));
            return stage;
        }

        /** A node call completed: the one place its answer becomes a vote. */
        private void answered(int node, R reply, Throwable error) {
            if (error != null) {
                fail(node, unwrap(error));
                return;
            }
            Vote vote;
            try {
                vote = op.vote(reply);
            } catch (RuntimeException e) {
                fail(node, e);
                return;
            }
            vote(node, vote, op.replyMatters() ? reply : null);
        }

        private void fail(int node, Throwable cause) {
            failure(node, cause);
        }
    }

    /**
     * A node's silence. Without a stack trace: it would only show the timer thread, and a partition makes one per
     * waiting call and node at a time, kept until the call's next attempt.
     */
    private static final class NodeTimeoutException extends TimeoutException {
        private static final long serialVersionUID = 1L;

        NodeTimeoutException(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }
}
