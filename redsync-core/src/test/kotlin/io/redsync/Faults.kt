package io.redsync

import io.redsync.spi.AcquireReply
import io.redsync.spi.LockNode
import io.redsync.spi.Ownership
import java.net.ServerSocket
import java.net.Socket
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CompletionStage
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

/**
 * Fault injection a real server cannot produce on demand: wraps a REAL node and delays chosen replies
 * (the command itself runs on the server at once). Used beside real-server tests of the same paths.
 */
class DelayingNode(
    private val delegate: LockNode,
    @Volatile var acquireDelayMs: Long = 0,
    @Volatile var extendDelayMs: Long = 0,
) : LockNode {
    /** How many of the next acquire replies get [acquireDelayMs]; unlimited by default. */
    val delayedAcquires = java.util.concurrent.atomic.AtomicInteger(Int.MAX_VALUE)

    /**
     * What was sent to this node, in order: ("acquire"|"release", sent-at nanos, replied-at nanos (when this client had
     * the reply), granted, owner value,
     * and for an acquire when the server's reply came in, before any hold-back: the command has run on the node then).
     */
    data class Sent(val op: String, val sentAt: Long, @Volatile var repliedAt: Long = Long.MAX_VALUE, @Volatile var granted: Boolean = false,
                    val value: String? = null, @Volatile var ranAt: Long = Long.MAX_VALUE)
    val sent = java.util.concurrent.ConcurrentLinkedQueue<Sent>()
    private val delayer = Executors.newSingleThreadScheduledExecutor { r -> Thread(r, "delayer").also { it.isDaemon = true } }
    private fun <T> later(stage: CompletionStage<T>, ms: Long): CompletionStage<T> {
        if (ms == 0L) return stage
        val out = CompletableFuture<T>()
        stage.whenComplete { v, e -> delayer.schedule({ if (e == null) out.complete(v) else out.completeExceptionally(e) }, ms, TimeUnit.MILLISECONDS) }
        return out
    }
    override fun address() = delegate.address()
    override fun acquire(key: String, value: String, expiryMillis: Long, refreshIfHeld: Boolean, counterKey: String?): CompletionStage<AcquireReply> {
        val record = Sent("acquire", System.nanoTime(), value = value).also { sent.add(it) }
        val ran = delegate.acquire(key, value, expiryMillis, refreshIfHeld, counterKey).whenComplete { _, _ -> record.ranAt = System.nanoTime() }
        return later(ran, if (delayedAcquires.getAndDecrement() > 0) acquireDelayMs else 0)
            .whenComplete { reply, _ -> record.granted = reply?.acquired() == true; record.repliedAt = System.nanoTime() }
    }
    override fun fence(key: String, value: String, counterKey: String, token: Long): CompletionStage<Ownership> =
        delegate.fence(key, value, counterKey, token)
    override fun subscribe(key: String, listener: java.util.function.Consumer<String>): CompletionStage<LockNode.Subscription> =
        delegate.subscribe(key, listener)
    override fun release(key: String, value: String): CompletionStage<Ownership> {
        val record = Sent("release", System.nanoTime(), value = value).also { sent.add(it) }
        return delegate.release(key, value).whenComplete { _, _ -> record.repliedAt = System.nanoTime() }
    }
    override fun extend(key: String, value: String, expiryMillis: Long, setIfAbsent: Boolean): CompletionStage<Ownership> =
        later(delegate.extend(key, value, expiryMillis, setIfAbsent), extendDelayMs)
    override fun get(key: String): CompletionStage<String> = delegate.get(key)
    override fun inspect(key: String): CompletionStage<io.redsync.spi.KeyState> = delegate.inspect(key)
    override fun close() { delegate.close(); delayer.shutdownNow() }
}

/** A TCP proxy in front of a real redis-server that delays server-to-client bytes by [delayMs] (a slow link). */
class DelayProxy(private val target: Int) : AutoCloseable {
    @Volatile var delayMs = 0L
    private val server = ServerSocket(0)
    val port = server.localPort
    private val scheduler = Executors.newSingleThreadScheduledExecutor { r -> Thread(r, "delay-proxy").also { it.isDaemon = true } }

    init {
        Thread {
            while (!server.isClosed) {
                val client = runCatching { server.accept() }.getOrNull() ?: break
                val upstream = Socket("127.0.0.1", target)
                Thread { runCatching { client.getInputStream().copyTo(upstream.getOutputStream(), 8192) } }.apply { isDaemon = true }.start()
                Thread {
                    val buf = ByteArray(65536)
                    val input = upstream.getInputStream()
                    val output = client.getOutputStream()
                    while (true) {
                        val n = runCatching { input.read(buf) }.getOrDefault(-1)
                        if (n < 0) break
                        val chunk = buf.copyOf(n)
                        scheduler.schedule({ runCatching { output.write(chunk); output.flush() } }, delayMs, TimeUnit.MILLISECONDS)
                    }
                }.apply { isDaemon = true }.start()
            }
        }.apply { isDaemon = true }.start()
    }

    override fun close() {
        server.close()
        scheduler.shutdownNow()
    }
}
