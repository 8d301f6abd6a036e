package io.redsync.lettuce;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ConnectionFuture;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.api.StatefulConnection;

import java.net.SocketAddress;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Opens a Lettuce connection that is ready for commands when the returned future completes.
 *
 * <p>Lettuce completes its connect future when the handshake's future completes, and activates the connection
 * (the endpoint that accepts commands) in {@code channelActive}, which the handshake handler fires on the
 * channel's event loop. When the handshake finishes off the event loop (a URI whose credentials provider is not
 * an immediate one: Lettuce 7's {@code RedisURI.create} with a password, or any dynamic provider, continues the
 * handshake through {@code thenComposeAsync}), that event is only queued when the connect future completes, and a
 * command sent at once is rejected ("Currently not connected", with {@code REJECT_COMMANDS}). So a connection
 * counts as ready only once Lettuce's connected event for that very connection has fired
 * ({@link RedisConnectionStateListener#onRedisConnected}, which runs after the endpoint was activated). See
 * docs/lettuce-handshake-race.md.
 *
 * <p>The same race can replace a handshake's error reply (a wrong password) by "Connection closed prematurely" or
 * "RedisHandshakeHandler not registered"; after either, the connect is tried once more, so the server's own
 * reply reaches the caller.
 */
final class Connector {
    /** After this long without the connected event (it never fails to fire), the connection is used anyway. */
    private static final long ACTIVATION_BOUND_MILLIS = 2_000;

    private Connector() {
    }

    static <C extends StatefulConnection<?, ?>> CompletableFuture<C> connect(AbstractRedisClient client,
                                                                            Supplier<ConnectionFuture<C>> connect) {
        CompletableFuture<C> out = new CompletableFuture<>();
        attempt(client, connect, out, true);
        return out;
    }

    private static <C extends StatefulConnection<?, ?>> void attempt(AbstractRedisClient client, Supplier<ConnectionFuture<C>> connect,
                                                                     CompletableFuture<C> out, boolean mayRetry) {
        Activations activations = new Activations();
        client.addListener(activations);
        CompletableFuture<C> started;
        try {
            started = connect.get().toCompletableFuture();
        } catch (RuntimeException e) {
            // Lettuce throws some failures (no epoll for a socket path, a shut-down client) instead of failing the future.
            client.removeListener(activations);
            out.completeExceptionally(e);
            return;
        }
        started.whenComplete((connection, error) -> {
            if (error != null) {
                client.removeListener(activations);
                if (mayRetry && misleading(error)) {
                    attempt(client, connect, out, false);
                } else {
                    out.completeExceptionally(error);
                }
                return;
            }
            activations.of(connection).whenComplete((v, e) -> {
                client.removeListener(activations);
                out.complete(connection);
            });
        });
    }

    /** Lettuce's words for a handshake whose failure report lost the race against the channel's close. */
    static boolean misleading(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null) {
                String lower = m.toLowerCase(Locale.ROOT);
                if (lower.contains("connection closed prematurely") || lower.contains("redishandshakehandler not registered")) {
                    return true;
                }
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** The connections of one client that Lettuce reported connected (activated) while this listener was on. */
    private static final class Activations implements RedisConnectionStateListener {
        /** Guarded by this. */
        private final Set<Object> activated = Collections.newSetFromMap(new IdentityHashMap<>());
        /** Guarded by this. */
        private Object awaited;
        private final CompletableFuture<Void> active = new CompletableFuture<>();

        @Override
        public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress socketAddress) {
            seen(connection);
        }

        @Override
        public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
            // Closed before activation: nothing will come; the connection rejects or reconnects as usual.
            seen(connection);
        }

        private void seen(Object connection) {
            synchronized (this) {
                if (connection != awaited) {
                    activated.add(connection);
                    return;
                }
            }
            active.complete(null);
        }

        CompletableFuture<Void> of(Object connection) {
            synchronized (this) {
                if (!activated.contains(connection)) {
                    awaited = connection;
                    return active.completeOnTimeout(null, ACTIVATION_BOUND_MILLIS, TimeUnit.MILLISECONDS);
                }
            }
            return CompletableFuture.completedFuture(null);
        }
    }
}
