package io.redsync.internal;

import io.redsync.spi.AcquireReply;
import io.redsync.spi.KeyState;
import io.redsync.spi.LockNode;
import io.redsync.spi.Ownership;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

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

    static <R> Operation<R> of(Function<LockNode, CompletionStage<R>> send, Function<R, Vote> vote) {
        return new Operation<>() {
            @Override
            public CompletionStage<R> send(LockNode node) {
                return send.apply(node);
            }

            @Override
            public Vote vote(R reply) {
                return vote.apply(reply);
            }
        };
    }

    /** The SPI's answer to a compare-and-something script. */
    static Vote of(Ownership ownership) {
        return switch (ownership) {
            case MINE -> Vote.GRANTED;
            case OTHER -> Vote.HELD_BY_OTHER;
            case ABSENT -> Vote.ABSENT;
        };
    }

    /**
     * SET NX PX (with {@code refresh}: or refresh a key already holding {@code value}); with fencing, also reads
     * the counter. The reply keeps the holder's TTL and the counter for {@link Redlock}.
     */
    // region README engine-operations
    static Operation<AcquireReply> acquire(Target target, String value, long expiryMillis, boolean refresh) {
        return of(n -> n.acquire(target.key(), value, expiryMillis, refresh, target.counterKey()),
                r -> r.acquired() ? Vote.GRANTED : Vote.HELD_BY_OTHER);
    }

    /** Compare-and-delete. */
    static Operation<Ownership> release(Target target, String value) {
        return of(n -> n.release(target.key(), value), Operation::of);
    }
    // endregion

    /** Compare-and-PEXPIRE (with {@code setIfAbsent}: or SET NX a missing key). */
    static Operation<Ownership> extend(Target target, String value, long ttlMillis, boolean setIfAbsent) {
        return of(n -> n.extend(target.key(), value, ttlMillis, setIfAbsent), Operation::of);
    }

    /** Fencing write-back: raise the counter to {@code token} where our key stands. */
    static Operation<Ownership> fence(Target target, String value, long token) {
        return of(n -> n.fence(target.key(), value, target.counterKey(), token), Operation::of);
    }

    /** GET: granted where the key holds {@code value}. */
    static Operation<String> look(Target target, String value) {
        return of(n -> n.get(target.key()), held -> held == null ? Vote.ABSENT
                : Objects.equals(held, value) ? Vote.GRANTED : Vote.HELD_BY_OTHER);
    }

    /** GET: granted where the key holds {@code preset} or a token of a lock call made with it ({@link Tokens#madeWith}). */
    static Operation<String> lookMadeWith(Target target, String preset) {
        return of(n -> n.get(target.key()), held -> of(Tokens.ownership(preset, held)));
    }

    /** GET, then compare-and-delete exactly what the key held, where that was made with {@code preset}. */
    static Operation<Ownership> releaseMadeWith(Target target, String preset) {
        return of(n -> n.get(target.key()).thenCompose(held -> Tokens.madeWith(preset, held)
                ? n.release(target.key(), held)
                : CompletableFuture.completedFuture(Tokens.ownership(preset, held))), Operation::of);
    }

    /**
     * Value and TTL: every held key votes "held by another owner" (nobody's value is ours: owner tokens are never
     * blank), an absent one "absent".
     */
    static Operation<KeyState> inspect(Target target) {
        return of(n -> n.inspect(target.key()), s -> s.value() == null ? Vote.ABSENT : Vote.HELD_BY_OTHER);
    }
}
