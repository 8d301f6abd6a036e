package io.redsync.internal;

import io.redsync.spi.AcquireReply;
import io.redsync.spi.KeyState;
import io.redsync.spi.LockNode;
import io.redsync.spi.Ownership;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What the engine fans out: a script for one node ({@link #send}) and how its reply votes ({@link #vote}). The
 * engine knows nothing else about an operation; what a decided ballot of these votes means is {@link Redlock}'s.
 * A new primitive is a new operation here plus a rule there (see docs/extending.md).
 *
 * @param <R> the node's reply
 */
interface Operation<R> {
    /** Sends the script to one node; may fail synchronously (counted as that node failing). */
    CompletionStage<R> send(LockNode node);

    /** What the reply means, in the engine's one vocabulary (never {@link Vote#FAILED}: errors are failures). */
    Vote vote(R reply);

    /** Whether a rule reads the reply beyond its vote (a holder's TTL, a counter); the ballot keeps it only then. */
    default boolean replyMatters() {
        return true;
    }

    /** The SPI's answer to a compare-and-something script. */
    static Vote of(Ownership ownership) {
        return switch (ownership) {
            case MINE -> Vote.GRANTED;
            case OTHER -> Vote.HELD_BY_OTHER;
            case ABSENT -> Vote.ABSENT;
        };
    }

    /** A compare-and-something script: its vote is the node's {@link Ownership}, which says no more than that. */
    interface Compare extends Operation<Ownership> {
        @Override
        default Vote vote(Ownership reply) {
            return of(reply);
        }

        @Override
        default boolean replyMatters() {
            return false;
        }
    }

    // Each operation is a record: one object per fan-out, where a pair of lambdas would be three.

    // region README engine-operations
    /**
     * SET NX PX (with {@code refresh}: or refresh a key already holding {@code value}); with fencing, also reads
     * the counter. The reply keeps the holder's TTL and the counter for {@link Redlock}.
     */
    record Acquire(Target target, String value, long expiryMillis, boolean refresh) implements Operation<AcquireReply> {
        @Override
        public CompletionStage<AcquireReply> send(LockNode node) {
            return node.acquire(target.key(), value, expiryMillis, refresh, target.counterKey());
        }

        @Override
        public Vote vote(AcquireReply reply) {
            return reply.acquired() ? Vote.GRANTED : Vote.HELD_BY_OTHER;
        }
    }

    /** Compare-and-delete. */
    record Release(Target target, String value) implements Compare {
        @Override
        public CompletionStage<Ownership> send(LockNode node) {
            return node.release(target.key(), value);
        }
    }
    // endregion

    /** Compare-and-PEXPIRE (with {@code setIfAbsent}: or SET NX a missing key). */
    record Extend(Target target, String value, long ttlMillis, boolean setIfAbsent) implements Compare {
        @Override
        public CompletionStage<Ownership> send(LockNode node) {
            return node.extend(target.key(), value, ttlMillis, setIfAbsent);
        }
    }

    /** Fencing write-back: raise the counter to {@code token} where our key stands. */
    record Fence(Target target, String value, long token) implements Compare {
        @Override
        public CompletionStage<Ownership> send(LockNode node) {
            return node.fence(target.key(), value, target.counterKey(), token);
        }
    }

    /** GET: granted where the key holds {@code value}. */
    record Look(Target target, String value) implements Operation<String> {
        @Override
        public CompletionStage<String> send(LockNode node) {
            return node.get(target.key());
        }

        @Override
        public Vote vote(String held) {
            return held == null ? Vote.ABSENT : Objects.equals(held, value) ? Vote.GRANTED : Vote.HELD_BY_OTHER;
        }
    }

    /** GET: granted where the key holds {@code preset} or a token of a lock call made with it ({@link Tokens#madeWith}). */
    record LookMadeWith(Target target, String preset) implements Operation<String> {
        @Override
        public CompletionStage<String> send(LockNode node) {
            return node.get(target.key());
        }

        @Override
        public Vote vote(String held) {
            return of(Tokens.ownership(preset, held));
        }
    }

    /** GET, then compare-and-delete exactly what the key held, where that was made with {@code preset}. */
    record ReleaseMadeWith(Target target, String preset) implements Compare {
        @Override
        public CompletionStage<Ownership> send(LockNode node) {
            return node.get(target.key()).thenCompose(held -> Tokens.madeWith(preset, held)
                    ? node.release(target.key(), held)
                    : CompletableFuture.completedFuture(Tokens.ownership(preset, held)));
        }
    }

    /**
     * Value and TTL: every held key votes "held by another owner" (nobody's value is ours: owner tokens are never
     * blank), an absent one "absent".
     */
    record Inspect(Target target) implements Operation<KeyState> {
        @Override
        public CompletionStage<KeyState> send(LockNode node) {
            return node.inspect(target.key());
        }

        @Override
        public Vote vote(KeyState state) {
            return state.value() == null ? Vote.ABSENT : Vote.HELD_BY_OTHER;
        }
    }
}
