package io.redsync.lettuce;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.redsync.spi.LockNode;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The release notifications of one node: one pub/sub connection, opened on first use and shared by every
 * waiter of the Redsync instance, with channels reference-counted across waiters (subscribed for the first,
 * unsubscribed after the last). Lettuce re-subscribes by itself after a reconnect; a message lost meanwhile
 * costs the waiter one retry delay, nothing else.
 *
 * <p>This is the Redis side of release notifications; the local side, which of the instance's waiting lock
 * calls an announcement wakes, is {@code io.redsync.internal.Waiters}.
 */
final class Subscriptions {
    private final RedisClient client;
    private final RedisURI uri;
    /** Guarded by this. */
    private final Map<String, Channel> channels = new HashMap<>();
    private CompletableFuture<StatefulRedisPubSubConnection<String, String>> connection;
    private boolean closed;

    private static final class Channel {
        final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> subscribed;
    }

    Subscriptions(RedisClient client, RedisURI uri) {
        this.client = client;
        this.uri = uri;
    }

    CompletionStage<LockNode.Subscription> subscribe(String name, Consumer<String> listener) {
        CompletableFuture<Void> active;
        synchronized (this) {
            if (closed) {
                return CompletableFuture.failedFuture(new IllegalStateException("node is closed"));
            }
            Channel channel = channels.get(name);
            if (channel == null) {
                channel = new Channel();
                channels.put(name, channel);
                // Commands on one connection run in order, so a SUBSCRIBE after an UNSUBSCRIBE of the
                // same channel (last waiter left, a new one came) leaves it subscribed.
                channel.subscribed = connection().thenCompose(c -> c.async().subscribe(name)).toCompletableFuture();
            }
            channel.listeners.add(listener);
            active = channel.subscribed;
        }
        LockNode.Subscription subscription = new LockNode.Subscription() {
            private boolean cancelled;

            @Override
            public void cancel() {
                synchronized (Subscriptions.this) {
                    if (cancelled) {
                        return;
                    }
                    cancelled = true;
                    Channel channel = channels.get(name);
                    if (channel == null || !channel.listeners.remove(listener) || !channel.listeners.isEmpty()) {
                        return;
                    }
                    channels.remove(name);
                    if (!closed) {
                        connection().thenCompose(c -> c.async().unsubscribe(name));
                    }
                }
            }
        };
        return active.handle((v, error) -> {
            if (error != null) {
                subscription.cancel();
                throw new java.util.concurrent.CompletionException(error);
            }
            return subscription;
        });
    }

    /** Guarded by this. A failed connect is not kept: the next subscription tries again. */
    private CompletableFuture<StatefulRedisPubSubConnection<String, String>> connection() {
        if (connection == null || connection.isCompletedExceptionally()) {
            // Ready for SUBSCRIBE only once Lettuce activated it (see Connector).
            connection = Connector.connect(client, () -> client.connectPubSubAsync(StringCodec.UTF8, uri)).thenApply(c -> {
                c.addListener(new RedisPubSubAdapter<>() {
                    @Override
                    public void message(String channel, String message) {
                        Channel subscribers;
                        synchronized (Subscriptions.this) {
                            subscribers = channels.get(channel);
                        }
                        if (subscribers != null) {
                            subscribers.listeners.forEach(l -> l.accept(message));
                        }
                    }
                });
                return c;
            });
        }
        return connection;
    }

    void close() {
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> open;
        synchronized (this) {
            closed = true;
            channels.clear();
            open = connection;
        }
        if (open != null) {
            open.thenAccept(StatefulRedisPubSubConnection::closeAsync);
        }
    }
}
