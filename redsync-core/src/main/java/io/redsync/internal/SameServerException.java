package io.redsync.internal;

import io.redsync.spi.LockNode;

/**
 * A node turned out to be the same Redis server (by {@code INFO server} run_id) as another node of the instance.
 * Classified as {@link io.redsync.NodeException.Reason#SAME_SERVER}, a configuration error: retrying cannot help.
 * Without a stack trace: it is made once per node and only ever names the configuration.
 */
final class SameServerException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    SameServerException(LockNode[] nodes, int node, int other, String serverId) {
        super("node " + node + " (" + nodes[node].address() + ") is the same Redis server as node " + other + " ("
                + nodes[other].address() + "): both report run_id " + serverId);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
