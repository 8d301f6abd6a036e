package io.redsync.internal;

import io.netty.util.Timeout;
import io.redsync.spi.LockNode;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The nodes' connections as the engine sees them: connected or not, and which node turned out to be a second
 * address of another's server. Connecting is not part of a Redlock attempt; the engine asks here before it sends.
 */
final class Connections {
    private final LockNode[] nodes;
    private final int quorum;
    /** How long a call waits for nodes still connecting before its first attempt starts. */
    private final long connectTimeoutNanos;
    /** Per node: its connect (done or in flight), completing after the same-server check; replaced once failed. */
    private final AtomicReferenceArray<CompletableFuture<Void>> connects;
    /** Guarded by itself: per node, the server identity it reported on connecting (null while unknown). */
    private final String[] serverIds;
    /** Per node: set when it turned out to be the same server as another node; every call to it fails with it. */
    private final AtomicReferenceArray<SameServerException> sameServer;

    Connections(LockNode[] nodes, int quorum, long connectTimeoutNanos) {
        this.nodes = nodes;
        this.quorum = quorum;
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
        Timeout bound = Scheduler.schedule(() -> out.complete(null), boundNanos);
        out.whenComplete((v, e) -> bound.cancel());
        return out;
    }

    /** What a lock call waits for before its first attempt: a quorum connected, within the connect timeout. */
    CompletableFuture<Void> connected(long boundNanos) {
        return connected(boundNanos, quorum);
    }

    long timeoutNanos() {
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
                    sameServer.compareAndSet(node, null, new SameServerException(nodes, node, other, serverId));
                    return;
                }
            }
            serverIds[node] = serverId;
        }
    }

    /** The configuration error every call to {@code node} fails with, or null. */
    SameServerException sameServer(int node) {
        return sameServer.get(node);
    }

    /** The node's connect while it is still in flight (a command must wait for it), else null. */
    CompletableFuture<Void> pending(int node) {
        CompletableFuture<Void> connecting = connects.get(node);
        return connecting != null && !connecting.isDone() ? connecting : null;
    }
}
