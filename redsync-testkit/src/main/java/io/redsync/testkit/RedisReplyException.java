package io.redsync.testkit;

/**
 * Redis answered a command with an error reply, for example {@code WRONGTYPE Operation against a key
 * holding the wrong kind of value} or {@code NOAUTH Authentication required.}.
 *
 * <p>The message is the error reply exactly as Redis sent it, without the leading {@code -}.
 *
 * @since 0.1.0
 */
public final class RedisReplyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RedisReplyException(String reply) {
        super(reply);
    }
}
