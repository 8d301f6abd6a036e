package io.redsync.internal;

import io.redsync.ExtendFailedException;
import io.redsync.LeaseExpiredException;
import io.redsync.LockNotHeldException;
import io.redsync.NodeException;
import io.redsync.UnlockFailedException;
import io.redsync.Votes;
import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.redsync.spi.LockNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;

/**
 * The quorum engine: fans one operation out to every node in parallel, each call bounded by the node
 * timeout, and decides by quorum. Nothing else in the library counts votes. It never blocks: replies
 * arrive on Lettuce's I/O threads; timeouts and retries run on one shared timer thread ({@link #TIMER}).
 *
 * <p>No caller code ever runs on the timer thread: a ballot decided there (by a timeout, or by a node
 * failing synchronously during a retry) completes on {@link #WORKERS} instead. Otherwise a caller blocking
 * in a continuation (say {@code lease.release()} in {@code thenAccept}) would wait for a timeout that only
 * that blocked thread can fire.
 */
final class Engine {
    /**
     * Completes what the timer thread decided, and runs lease-lost listeners. Shared by all instances: one
     * daemon thread while there is work, more (at most 16) only while the ones there are blocked, for a
     * caller blocking in a continuation holds its thread (the Javadoc of the async methods says not to; use
     * the *Async variants or thenApplyAsync). Normal decisions (replies) complete on the I/O thread that
     * received the last reply and never come here.
     */
    static final Workers WORKERS = new Workers("redsync-worker", 16);

    /**
     * Times node timeouts, retries and keep-alive for every instance. A hashed wheel: adding and cancelling
     * a timeout is a lock-free queue operation that wakes no thread, where a ScheduledThreadPoolExecutor
     * signals its thread whenever a new earliest task arrives, several times per lock+unlock. The 10 ms
     * tick is ample precision for what it times (timeouts are upper bounds; validity is measured, not
     * assumed).
     */
    private static final HashedWheelTimer TIMER = new HashedWheelTimer(
            r -> new TimerThread(r, "redsync-timer"), 10, TimeUnit.MILLISECONDS, 512);

    /** The timer's thread is of this type, so a decision can tell where it runs. */
    static final class TimerThread extends Thread {
        TimerThread(Runnable task, String name) {
            super(task, name);
            setDaemon(true);
        }
    }

    static boolean onTimerThread() {
        return Thread.currentThread() instanceof TimerThread;
    }

    final LockNode[] nodes;
    final int quorum;
    /** Release announcements, shared by the waiting calls of each key. */
    final Watches watches;
    private final Set<AcquireCall> active = ConcurrentHashMap.newKeySet();
    /** No new lock calls; cleanup of the active ones still reaches the nodes. */
    private volatile boolean closing;
    /** Nothing is sent any more. */
    private volatile boolean closed;
    /** How long a call waits for nodes still connecting before its first attempt starts. */
    private final long connectTimeoutNanos;
    /** Per node: its connect (done or in flight), completing after the same-server check; replaced once failed. */
    private final AtomicReferenceArray<CompletableFuture<Void>> connects;
    /** Guarded by itself: per node, the server identity it reported on connecting (null while unknown). */
    private final String[] serverIds;
    /** Per node: set when it turned out to be the same server as another node; every call to it fails with it. */
    private final AtomicReferenceArray<SameServerException> sameServer;

    /** Tells the instance's listeners what the locks do; {@link Telemetry#NONE} without any. */
    final Telemetry telemetry;

    Engine(LockNode[] nodes, long connectTimeoutNanos) {
        this(nodes, connectTimeoutNanos, Telemetry.NONE);
    }

    Engine(LockNode[] nodes, long connectTimeoutNanos, Telemetry telemetry) {
        this.telemetry = telemetry;
        this.nodes = nodes;
        this.quorum = nodes.length / 2 + 1;
        this.watches = new Watches(nodes, quorum);
        this.connectTimeoutNanos = connectTimeoutNanos;
        this.connects = new AtomicReferenceArray<>(nodes.length);
        this.serverIds = new String[nodes.length];
        this.sameServer = new AtomicReferenceArray<>(nodes.length);
    }

    /**
     * Connects every node not connected yet (again, for one whose last connect failed). Completes once
     * {@code needed} nodes are connected, or every node's connect has finished (successfully or not), or after
     * {@code boundNanos}, whichever comes first; never exceptionally. Connecting is not part of a Redlock attempt:
     * lock calls start their first attempt, its clock and its node timeouts, once a quorum is connected, so one
     * node that is down or paused delays nothing (its command waits for its connection within the attempt's node
     * timeout, as for any slow node).
     */
    CompletableFuture<Void> connected(long boundNanos, int needed) {
        int up = 0;
        List<CompletableFuture<Void>> pending = null;
        for (int i = 0; i < nodes.length; i++) {
            CompletableFuture<Void> c = connect(i);
            if (!c.isDone()) {
                if (pending == null) {
                    pending = new ArrayList<>();
                }
                pending.add(c);
            } else if (!c.isCompletedExceptionally()) {
                up++;
            }
        }
        if (pending == null || up >= needed || boundNanos <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> out = new CompletableFuture<>();
        AtomicInteger connected = new AtomicInteger(up);
        AtomicInteger left = new AtomicInteger(pending.size());
        for (CompletableFuture<Void> c : pending) {
            c.whenComplete((v, e) -> {
                if ((e == null && connected.incrementAndGet() >= needed) | left.decrementAndGet() == 0) {
                    out.complete(null);
                }
            });
        }
        Timeout bound = schedule(() -> out.complete(null), boundNanos);
        out.whenComplete((v, e) -> bound.cancel());
        return out;
    }

    /** What a lock call waits for before its first attempt: a quorum connected, within the connect timeout. */
    CompletableFuture<Void> connected(long boundNanos) {
        return connected(boundNanos, quorum);
    }

    long connectTimeoutNanos() {
        return connectTimeoutNanos;
    }

    /** Whether every node's connection is up. */
    boolean allConnected() {
        for (int i = 0; i < nodes.length; i++) {
            CompletableFuture<Void> c = connects.get(i);
            if (c == null || !c.isDone() || c.isCompletedExceptionally()) {
                return false;
            }
        }
        return true;
    }

    private CompletableFuture<Void> connect(int node) {
        CompletableFuture<Void> current = connects.get(node);
        if (current != null && !current.isCompletedExceptionally()) {
            return current;
        }
        CompletableFuture<Void> next;
        try {
            next = nodes[node].connect().toCompletableFuture().thenAccept(id -> {
                checkSameServer(node, id);
                SameServerException same = sameServer.get(node);
                if (same != null) {
                    throw same; // not connected as far as the caller is concerned
                }
            });
        } catch (RuntimeException e) {
            next = CompletableFuture.failedFuture(e);
        }
        // Two callers racing here both ask the node, which connects once; either future will do.
        connects.compareAndSet(node, current, next);
        return next;
    }

    /**
     * Two node entries reaching one server (another host name, address or database number of the same process)
     * would let that one process cast two votes. The node found second is failed for good: every call to it
     * fails with a configuration error naming both.
     */
    private void checkSameServer(int node, String serverId) {
        if (serverId == null) {
            return;
        }
        synchronized (serverIds) {
            for (int other = 0; other < nodes.length; other++) {
                if (other != node && serverId.equals(serverIds[other])) {
                    sameServer.compareAndSet(node, null, new SameServerException(node, nodes[node].address(), other,
                            nodes[other].address(), serverId));
                    return;
                }
            }
            serverIds[node] = serverId;
        }
    }

    /** Runs {@code task} on the timer thread after {@code delayNanos}; the returned handle cancels it. */
    static Timeout schedule(Runnable task, long delayNanos) {
        return TIMER.newTimeout(t -> task.run(), delayNanos, TimeUnit.NANOSECONDS);
    }

    /** The wheel's tick: {@link #schedule} runs a task up to this much after its delay, never before. */
    static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /** Sends {@code call} to every node in {@code order}; the ballot decides when enough have answered. */
    Ballot fanOut(String lockName, int[] order, boolean failFast, long timeoutNanos, String expectedValue,
                  Function<LockNode, CompletionStage<?>> call) {
        return fanOut(lockName, order, failFast, timeoutNanos, expectedValue, call, null);
    }

    /**
     * As above; a node whose {@code gates} entry is not complete yet gets its call only once it is (the
     * ballot's timeout still bounds the wait), so a command can be ordered after one not yet sent.
     */
    Ballot fanOut(String lockName, int[] order, boolean failFast, long timeoutNanos, String expectedValue,
                  Function<LockNode, CompletionStage<?>> call, CompletableFuture<?>[] gates) {
        Ballot ballot = new Ballot(nodes.length, quorum, failFast, expectedValue);
        for (int node : order) {
            CompletableFuture<?> gate = gates == null ? null : gates[node];
            if (gate == null || gate.isDone()) {
                ballot.stage(node, dispatch(ballot, node, lockName, node, call));
            } else {
                // Until the call is sent, the node's stage is a placeholder completing after it, so a cleanup
                // (which follows the stage) cannot overtake a call sent late. A call whose ballot was decided
                // meanwhile is not sent at all: it could only leave a key behind.
                CompletableFuture<Void> placeholder = new CompletableFuture<>();
                ballot.stage(node, placeholder);
                gate.whenComplete((v, e) -> {
                    CompletionStage<?> sent = ballot.isDecided() ? null : dispatch(ballot, node, lockName, node, call);
                    if (sent == null) {
                        placeholder.complete(null);
                    } else {
                        sent.whenComplete((r, x) -> placeholder.complete(null));
                    }
                });
            }
        }
        // One timeout for the whole ballot: every node still unanswered then counts as failed.
        ballot.arm(schedule(() -> ballot.expire(slot -> timeoutError(lockName, slot, timeoutNanos)), timeoutNanos));
        return ballot;
    }

    private NodeException timeoutError(String lockName, int node, long timeoutNanos) {
        return nodeError(lockName, node, new NodeTimeoutException("no reply within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos)
                + " ms (node timeout)"));
    }

    /**
     * A node's silence. Without a stack trace: it would only show the timer thread, and a partition makes one
     * per waiting call and node at a time, kept until the call's next attempt.
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

    /**
     * Sends one call to one node, recording its reply or error in ballot entry {@code slot}.
     *
     * @return the call's stage, or null when nothing was sent (closed, or the node failed synchronously)
     */
    private CompletionStage<?> dispatch(Ballot ballot, int slot, String lockName, int node, Function<LockNode, CompletionStage<?>> call) {
        if (closed) {
            ballot.failure(slot, nodeError(lockName, node, new IllegalStateException("Redsync is closed")));
            return null;
        }
        SameServerException same = sameServer.get(node);
        if (same != null) {
            ballot.failure(slot, nodeError(lockName, node, same));
            return null;
        }
        CompletableFuture<Void> connecting = connects.get(node);
        if (connecting != null && !connecting.isDone()) {
            // Still connecting (an attempt starts once a quorum is up): the command goes out once this node's
            // connect and its same-server check are done, so a second address of one server never votes; the
            // ballot's timeout bounds the wait as for any slow node.
            CompletableFuture<Object> later = connecting.handle((v, e) -> (Void) null).thenCompose(v -> {
                SameServerException found = sameServer.get(node);
                if (found != null) {
                    return CompletableFuture.failedFuture(found);
                }
                if (closed) {
                    return CompletableFuture.failedFuture(new IllegalStateException("Redsync is closed"));
                }
                @SuppressWarnings("unchecked")
                CompletionStage<Object> sent = (CompletionStage<Object>) call.apply(nodes[node]);
                return sent;
            });
            later.whenComplete((reply, error) -> {
                if (error == null) {
                    ballot.reply(slot, reply);
                } else {
                    ballot.failure(slot, nodeError(lockName, node, unwrap(error)));
                }
            });
            return later;
        }
        CompletionStage<?> stage;
        try {
            stage = call.apply(nodes[node]);
        } catch (RuntimeException e) {
            ballot.failure(slot, nodeError(lockName, node, e));
            return null;
        }
        stage.whenComplete((reply, error) -> {
            if (error == null) {
                ballot.reply(slot, reply);
            } else {
                ballot.failure(slot, nodeError(lockName, node, unwrap(error)));
            }
        });
        return stage;
    }

    /** A one-node ballot for {@code call}, bounded by the timeout. */
    private Ballot single(String lockName, int node, long timeoutNanos, Function<LockNode, CompletionStage<?>> call) {
        Ballot ballot = new Ballot(1, 1, false, null);
        ballot.stage(0, dispatch(ballot, 0, lockName, node, call));
        ballot.arm(schedule(() -> ballot.expire(slot -> timeoutError(lockName, node, timeoutNanos)), timeoutNanos));
        return ballot;
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
     * answered "held by another owner". Nodes that timed out or had not answered are included: their
     * acquire may still run.
     *
     * <p>Each node's release is sent only once that node's acquire stage has completed (reply, error, or
     * Lettuce's own command timeout). Sending it at once would usually be safe on one ordered connection,
     * but an acquire whose EVALSHA met NOSCRIPT is re-sent as EVAL when that reply arrives, possibly after
     * our release: the key would outlive the failed attempt. In turn the next attempt, which uses the same
     * owner token, must reach a node only after this release was sent there, or the late release would
     * delete the new attempt's key: {@code sent[node]} completes when it has run (or failed for good), and
     * gates the retry; a retry whose ballot times out meanwhile counts that node as failed, sending nothing.
     *
     * <p>Only nodes that granted are waited for: they answered promptly and certainly hold our key, while
     * waiting for a slow node would hold up the caller for a whole node timeout.
     */
    CompletableFuture<Void> cleanup(Ballot ballot, String lockName, String key, String value, int[] order, long timeoutNanos,
                                    CompletableFuture<?>[] sent) {
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
                sent[node] = null;
                continue;
            }
            CompletionStage<?> acquired = ballot.stageOf(node);
            CompletableFuture<Ballot> released;
            if (acquired == null) {
                Ballot release = single(lockName, node, timeoutNanos, n -> n.release(key, value));
                released = release.decided;
                sent[node] = ranOrFailed(release);
            } else {
                CompletableFuture<Ballot> dispatched = acquired.handle((r, e) -> single(lockName, node, timeoutNanos,
                        n -> n.release(key, value))).toCompletableFuture();
                sent[node] = dispatched.thenCompose(Engine::ranOrFailed);
                released = dispatched.thenCompose(b -> b.decided);
            }
            if (state == Ballot.SUCCEEDED) {
                awaited[i++] = released;
            }
        }
        return CompletableFuture.allOf(awaited);
    }

    /**
     * Completes when a one-node ballot's command has run on the node or failed for good: its own stage, not
     * the ballot's decision, which a timeout may reach first. A release whose EVALSHA meets NOSCRIPT (the
     * node restarted under a live connection, or SCRIPT FLUSH) is re-sent as EVAL only when that reply
     * arrives; the next attempt's acquire, with the same owner token, must reach the node after that EVAL,
     * or it refreshes the key, counts it as granted, and the late EVAL deletes it (found by the soak).
     */
    private static CompletableFuture<Void> ranOrFailed(Ballot single) {
        CompletionStage<?> stage = single.stageOf(0);
        return stage == null ? CompletableFuture.completedFuture(null) : stage.handle((r, e) -> (Void) null).toCompletableFuture();
    }

    /**
     * Compare-and-delete on every node; completes normally iff a quorum deleted.
     *
     * @param deadlineNanos the lease's validity deadline, to word a failure; {@code Long.MIN_VALUE} if unknown
     */
    CompletableFuture<Void> release(String lockName, String key, String value, int[] order, boolean failFast, long timeoutNanos,
                                    long deadlineNanos) {
        return release(lockName, n -> n.release(key, value), order, failFast, timeoutNanos, deadlineNanos);
    }

    /**
     * Releases, on every node, whatever holds {@code preset} or the token of a lock call made with it
     * ({@link Tokens#madeWith}): {@code mutex.unlock()} by a preset value, which promises to release the lock
     * for whoever holds that value. The key is read, then compare-and-deleted with exactly what it held.
     */
    CompletableFuture<Void> releaseMadeWith(String lockName, String key, String preset, int[] order, boolean failFast,
                                            long timeoutNanos) {
        return release(lockName, n -> n.get(key).thenCompose(held -> Tokens.madeWith(preset, held)
                        ? n.release(key, held)
                        : CompletableFuture.completedFuture(Tokens.ownership(preset, held))),
                order, failFast, timeoutNanos, Long.MIN_VALUE);
    }

    private CompletableFuture<Void> release(String lockName, Function<LockNode, CompletionStage<?>> call, int[] order, boolean failFast,
                                            long timeoutNanos, long deadlineNanos) {
        long start = System.nanoTime();
        Ballot ballot = fanOut(lockName, order, failFast, timeoutNanos, null, call);
        return ballot.decided.thenApply(b -> {
            if (b.succeeded() >= quorum) {
                return null;
            }
            Votes votes = b.votes();
            if (lostQuorum(votes) && !votes.heldByOthers().isEmpty()) {
                throw new LockNotHeldException(lockName, "lock '" + lockName + "' not released: another owner holds it on nodes "
                        + votes.heldByOthers() + " (" + votes + "); the lease was lost before release", votes);
            }
            if (lostQuorum(votes)) {
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
     * Whether the lease is known to be gone: our key was absent or another owner's on so many nodes that the
     * nodes which failed could not make up a quorum even if they still held it. Another owner on a minority
     * is not enough: a contender's attempt may hold a node we lost, while the nodes that failed still hold
     * ours (a release timing out on two nodes of three was once reported as "another owner holds it").
     */
    private boolean lostQuorum(Votes votes) {
        return votes.nodeCount() - votes.absent().size() - votes.heldByOthers().size() < quorum;
    }

    /**
     * Compare-and-PEXPIRE on every node, started at {@code start}. Completes with the new monotonic deadline
     * iff a quorum extended and validity remains.
     */
    CompletableFuture<Long> extend(String lockName, String key, String value, int[] order, boolean failFast, long timeoutNanos,
                                   long start, long ttlNanos, long driftNanos, boolean setIfAbsent) {
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
            if (lostQuorum(votes) && !votes.heldByOthers().isEmpty()) {
                throw new LockNotHeldException(lockName, "lock '" + lockName + "' not extended: another owner holds it on nodes "
                        + votes.heldByOthers() + " (" + votes + ")", votes);
            }
            if (lostQuorum(votes)) {
                throw new LeaseExpiredException(lockName, "lock '" + lockName + "' not extended: its keys were gone on a majority, expired or deleted (" + votes + ")", votes);
            }
            throw new ExtendFailedException(lockName, "lock '" + lockName + "' not extended on a quorum (" + votes + ")", votes);
        });
    }

    /**
     * Fencing write-back: raises the counter to {@code token} on the nodes that granted {@code acquired}
     * (where our key stands); the others count as absent. Decides like any ballot.
     */
    CompletableFuture<Ballot> fence(String lockName, int[] order, Ballot acquired, String key, String value, String counterKey,
                                    long token, long timeoutNanos) {
        Ballot ballot = new Ballot(nodes.length, quorum, false, null);
        for (int node : order) {
            if (acquired.decidedState(node) == Ballot.SUCCEEDED) {
                ballot.stage(node, dispatch(ballot, node, lockName, node, n -> n.fence(key, value, counterKey, token)));
            } else {
                ballot.reply(node, io.redsync.spi.Ownership.ABSENT);
            }
        }
        ballot.arm(schedule(() -> ballot.expire(slot -> timeoutError(lockName, slot, timeoutNanos)), timeoutNanos));
        return ballot.decided;
    }

    /**
     * The token that holds the lock for whoever knows {@code preset}: {@code preset} itself or the token of the
     * lock call made with it ({@link Tokens#madeWith}) that a quorum of nodes holds; empty if none does. An
     * extension by a preset value then extends that one call's keys only, never a mix of several calls' minorities.
     */
    CompletableFuture<java.util.Optional<String>> tokenMadeWith(String lockName, String key, String preset, int[] order,
                                                                long timeoutNanos) {
        java.util.Map<String, Integer> held = new ConcurrentHashMap<>();
        Ballot ballot = fanOut(lockName, order, false, timeoutNanos, null, n -> n.get(key).thenApply(value -> {
            if (Tokens.madeWith(preset, value)) {
                held.merge(value, 1, Integer::sum);
            }
            return Tokens.ownership(preset, value);
        }));
        return ballot.decided.thenApply(b -> held.entrySet().stream().filter(e -> e.getValue() >= quorum)
                .map(java.util.Map.Entry::getKey).findFirst());
    }

    /** GET on every node; true iff a quorum holds {@code value}. */
    CompletableFuture<Boolean> check(String lockName, String key, String value, int[] order, boolean failFast, long timeoutNanos) {
        Ballot ballot = fanOut(lockName, order, failFast, timeoutNanos, value, n -> n.get(key));
        return ballot.decided.thenApply(b -> b.succeeded() >= quorum);
    }

    /** GET on every node: whose {@code key} is where ({@code value}'s count as succeeded), for a keeper's look between extensions. */
    CompletableFuture<Votes> look(String lockName, String key, String value, int[] order, long timeoutNanos) {
        return fanOut(lockName, order, false, timeoutNanos, value, n -> n.get(key)).decided.thenApply(Ballot::votes);
    }

    void register(AcquireCall call) {
        active.add(call);
        if (closing) {
            call.closeNow();
        }
    }

    void unregister(AcquireCall call) {
        active.remove(call);
    }

    /**
     * Fails every waiting lock call, waits for their cleanup to reach the nodes (every release they sent, see
     * {@link AcquireCall#quiet()}), then stops sending. The wait is
     * bounded by what those calls themselves may take: twice the longest node timeout among them (the attempt in
     * flight, then its cleanup) plus {@code slackNanos}, so a call made with a longer per-call node timeout than
     * the defaults' is waited for too. The caller closes the nodes afterwards; timeouts still pending fire as usual.
     */
    void close(long slackNanos) {
        closing = true;
        long longest = 0;
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (AcquireCall call : active) {
            call.closeNow();
            pending.add(call.quiet());
            longest = Math.max(longest, call.nodeTimeoutNanos());
        }
        try {
            CompletableFuture.allOf(pending.toArray(CompletableFuture<?>[]::new)).get(2 * longest + slackNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // Bounded on purpose: a node that does not answer keeps its key until the TTL.
        }
        closed = true;
    }
}
