package io.redsync.internal;

import io.redsync.LockQueryException;
import io.redsync.Votes;
import io.redsync.spi.KeyState;

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
    private HolderQuery() {
    }

    static CompletableFuture<Optional<Duration>> ask(Engine engine, Target target) {
        long start = System.nanoTime();
        return engine.fanOut(target, new Operation.Inspect(target)).decided
                .thenApply(b -> decide(target.lockName(), b, start));
    }

    private static Optional<Duration> decide(String lockName, Ballot<KeyState> ballot, long start) {
        int quorum = ballot.quorum();
        Map<String, List<Long>> ttlsByValue = new HashMap<>();
        for (int node = 0; node < ballot.nodeCount(); node++) {
            if (ballot.decided(node) == Vote.HELD_BY_OTHER) {
                KeyState state = ballot.reply(node);
                long ttl = state.ttlMillis();
                ttlsByValue.computeIfAbsent(state.value(), v -> new ArrayList<>()).add(ttl < 0 ? Long.MAX_VALUE : ttl);
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
                    + " of " + ballot.nodeCount() + " nodes hold one owner's key, and the " + unknown + " that failed could make up a "
                    + "quorum of " + quorum + " (" + votes + ")", votes);
        }
        return Optional.empty();
    }
}
