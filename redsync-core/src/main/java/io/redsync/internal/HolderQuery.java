package io.redsync.internal;

import io.redsync.LockQueryException;
import io.redsync.Votes;
import io.redsync.spi.KeyState;
import io.redsync.spi.LockNode;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * "Is it locked, and until when?": asks every node who holds the key, then decides as Redlock does. The lock
 * is held when one value stands on a quorum of nodes; it stays held until enough of those keys expire that
 * fewer than a quorum remain, i.e. for the quorum-th longest TTL among them. Read-only: it never writes.
 */
final class HolderQuery {
    /**
     * Counts nobody's value as "ours": owner tokens are never blank (the value generator and preset values are
     * checked), so every held key lands in the ballot's "held by another owner" column.
     */
    private static final String NO_OWNER = "";

    private HolderQuery() {
    }

    static CompletableFuture<Optional<Duration>> ask(Engine engine, String lockName, String key, int[] order, long timeoutNanos) {
        LockNode[] nodes = engine.nodes;
        KeyState[] states = new KeyState[nodes.length];
        long start = System.nanoTime();
        Ballot ballot = engine.fanOut(lockName, order, false, timeoutNanos, NO_OWNER, node -> {
            int index = indexOf(nodes, node);
            // Recorded before the ballot sees the reply (dispatch chains on this stage), so a node counted in the
            // decision has its state here; the ballot's lock publishes it.
            return node.inspect(key).thenApply(state -> {
                states[index] = state;
                return state.value();
            });
        });
        return ballot.decided.thenApply(b -> decide(engine.quorum, lockName, b, states, start));
    }

    private static int indexOf(LockNode[] nodes, LockNode node) {
        for (int i = 0; i < nodes.length; i++) {
            if (nodes[i] == node) {
                return i;
            }
        }
        throw new IllegalStateException("node " + node + " is not one of this instance's nodes");
    }

    private static Optional<Duration> decide(int quorum, String lockName, Ballot ballot, KeyState[] states, long start) {
        Map<String, List<Long>> ttlsByValue = new HashMap<>();
        for (int node = 0; node < states.length; node++) {
            if (ballot.decidedState(node) == Ballot.OTHER) {
                long ttl = states[node].ttlMillis();
                ttlsByValue.computeIfAbsent(states[node].value(), v -> new ArrayList<>()).add(ttl < 0 ? Long.MAX_VALUE : ttl);
            }
        }
        List<Long> holder = ttlsByValue.values().stream().max((a, b) -> Integer.compare(a.size(), b.size())).orElse(List.of());
        if (holder.size() >= quorum) {
            holder.sort((a, b) -> Long.compare(b, a));
            long ttl = holder.get(quorum - 1);
            if (ttl == Long.MAX_VALUE) {
                return Optional.of(ChronoUnit.FOREVER.getDuration());
            }
            // Each TTL was read at some moment after start: counting from start never overstates it.
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            return Optional.of(Duration.ofMillis(Math.max(0, ttl - elapsedMillis)));
        }
        Votes votes = ballot.votes();
        int unknown = votes.failed().size() + votes.unanswered().size();
        if (holder.size() + unknown >= quorum) {
            throw new LockQueryException(lockName, "cannot tell whether lock '" + lockName + "' is held: " + holder.size()
                    + " of " + states.length + " nodes hold one owner's key, and the " + unknown + " that failed could make up a "
                    + "quorum of " + quorum + " (" + votes + ")", votes);
        }
        return Optional.empty();
    }
}
