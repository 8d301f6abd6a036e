package io.redsync.samples.lettuce;

// region README handshake-race
import io.lettuce.core.*;
import io.lettuce.core.codec.StringCodec;
import java.util.concurrent.*;
import java.util.concurrent.atomic.AtomicInteger;
// endregion

/**
 * The minimal reproduction of Lettuce's handshake race in docs/lettuce-handshake-race.md, on Lettuce alone (it uses
 * nothing of redsync). Compiled so the document cannot drift; run by hand against a {@code redis-server --requirepass pw}
 * on port 6379, with {@code -Djava.util.concurrent.ForkJoinPool.common.parallelism=1}.
 */
// region README handshake-race
public class HandshakeRace {
    public static void main(String[] args) throws Exception {
        int connects = 2000, busy = 3;
        for (int b = 0; b < busy; b++) {
            Thread t = new Thread(() -> { while (true) Thread.onSpinWait(); });
            t.setDaemon(true);
            t.start();
        }
        RedisClient client = RedisClient.create();
        client.setOptions(ClientOptions.builder()
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
        AtomicInteger offLoop = new AtomicInteger(), rejected = new AtomicInteger();
        for (int i = 0; i < connects; i++) {
            RedisURI uri = RedisURI.create("redis://:pw@127.0.0.1:6379"); // a lambda credentials provider in 7.x
            CompletableFuture<String> first = client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture()
                    .thenCompose(connection -> {
                        if (!Thread.currentThread().getName().contains("EventLoop")) offLoop.incrementAndGet();
                        return connection.async().ping().toCompletableFuture()
                                .whenComplete((reply, error) -> connection.closeAsync());
                    });
            try {
                first.get(5, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                rejected.incrementAndGet(); // RedisException: Currently not connected. Commands are rejected.
            }
        }
        System.out.println("completed off the event loop: " + offLoop + ", first command rejected: " + rejected
                + " of " + connects);
        client.shutdown();
    }
}
// endregion
