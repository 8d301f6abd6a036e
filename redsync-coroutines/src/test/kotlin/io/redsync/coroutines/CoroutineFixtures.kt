package io.redsync.coroutines

import io.kotest.core.TestConfiguration
import io.lettuce.core.ExperimentalLettuceCoroutinesApi
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.SetArgs
import io.lettuce.core.api.StatefulRedisConnection
import io.lettuce.core.api.coroutines
import io.lettuce.core.api.coroutines.RedisCoroutinesCommands
import io.redsync.LockOptions
import io.redsync.Redsync
import io.redsync.RetryDelay
import io.redsync.lettuce.LettuceNode
import io.redsync.spi.AcquireReply
import io.redsync.spi.LockNode
import io.redsync.spi.Ownership
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.heal
import io.redsync.testkit.fixtures.nodesPerSpec
import kotlinx.coroutines.flow.toList
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CompletionStage
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

// redsync-coroutines' own fixtures; those of every module (nodesPerSpec, heal, awaitUntil, ms, the API dump)
// are in redsync-testkit's io.redsync.testkit.fixtures.

/** Options (built) that retry quickly, so contention tests finish in seconds instead of minutes. */
fun fastRetryOptions(): LockOptions = lockOptions {
    retryDelay = RetryDelay.uniform(java.time.Duration.ofMillis(1), java.time.Duration.ofMillis(5))
    tries = Int.MAX_VALUE
    acquireTimeout = 60.seconds
}

/**
 * Three real nodes and the test's view of them ([Cluster]) for this spec: nodes healed before every test
 * (unless [heal] is false), the view closed after the spec, then the nodes.
 */
fun TestConfiguration.clusterPerSpec(heal: Boolean = true): Cluster {
    val nodes = nodesPerSpec(3, if (heal) RedisNodes::heal else { _ -> })
    return autoClose(Cluster(nodes)) // closed in reverse order of registration: the view first
}

/** An exception no coroutine machinery can copy (no standard constructor), so identity checks are exact. */
class BlockFailure(val id: Int) : RuntimeException("block failed #$id")

/**
 * A REAL Lettuce node that counts the calls the engine makes on it and can hold back acquire replies (the
 * command itself runs on the server at once, as when a reply is slow on the wire).
 */
class CountingNode(private val delegate: LockNode) : LockNode {
    val acquires = AtomicInteger()
    val releases = AtomicInteger()
    val releasesAnswered = AtomicInteger()
    val extends = AtomicInteger()

    /** Holds back every acquire reply by this long. */
    @Volatile
    var acquireReplyDelayMs = 0L

    /** Connects the wrapped node when the engine asks, as an unwrapped node would (before the first attempt). */
    override fun connect() = delegate.connect()

    /** Holds back every release reply by this long. */
    @Volatile
    var releaseReplyDelayMs = 0L

    /** How many of the next acquire replies [acquireReplyDelayMs] applies to (all when negative). */
    val delayedAcquires = AtomicInteger(-1)

    override fun address(): String = delegate.address()

    override fun acquire(key: String, value: String, expiryMillis: Long, refreshIfHeld: Boolean, counterKey: String?): CompletionStage<AcquireReply> {
        acquires.incrementAndGet()
        val reply = delegate.acquire(key, value, expiryMillis, refreshIfHeld, counterKey)
        val delay = acquireReplyDelayMs
        if (delay == 0L || delayedAcquires.getAndUpdate { if (it > 0) it - 1 else it } == 0) return reply
        return later(reply, delay)
    }

    private fun <T> later(stage: CompletionStage<T>, delayMs: Long): CompletionStage<T> {
        if (delayMs == 0L) return stage
        val out = CompletableFuture<T>()
        stage.whenComplete { v, e ->
            DELAYER.schedule({ if (e == null) out.complete(v) else out.completeExceptionally(e) }, delayMs, TimeUnit.MILLISECONDS)
        }
        return out
    }

    /** The threads that sent releases to this node. */
    val releaseThreads: MutableSet<Thread> = java.util.concurrent.ConcurrentHashMap.newKeySet()

    override fun release(key: String, value: String): CompletionStage<Ownership> {
        releases.incrementAndGet()
        releaseThreads.add(Thread.currentThread())
        return later(delegate.release(key, value), releaseReplyDelayMs).whenComplete { _, _ -> releasesAnswered.incrementAndGet() }
    }

    override fun extend(key: String, value: String, expiryMillis: Long, setIfAbsent: Boolean): CompletionStage<Ownership> {
        extends.incrementAndGet()
        return delegate.extend(key, value, expiryMillis, setIfAbsent)
    }

    override fun get(key: String): CompletionStage<String> = delegate.get(key)

    override fun fence(key: String, value: String, counterKey: String, token: Long): CompletionStage<Ownership> =
        delegate.fence(key, value, counterKey, token)

    override fun subscribe(key: String, listener: java.util.function.Consumer<String>): CompletionStage<LockNode.Subscription> =
        delegate.subscribe(key, listener)

    override fun close() = delegate.close()

    private companion object {
        val DELAYER = Executors.newSingleThreadScheduledExecutor { r -> Thread(r, "reply-delayer").also { it.isDaemon = true } }
    }
}

/**
 * The test's own view of N real nodes: one Lettuce client shared by every Redsync under test, counting
 * nodes around real [LettuceNode]s, and a connection per node for assertions through Lettuce's
 * coroutines API.
 */
@OptIn(ExperimentalLettuceCoroutinesApi::class)
class Cluster(val nodes: RedisNodes) : AutoCloseable {
    val client: RedisClient = RedisClient.create()
    private val connections: List<StatefulRedisConnection<String, String>> =
        nodes.nodes().map { client.connect(RedisURI.create(it.uri())) }

    /** Lettuce's coroutines commands on node [index]; not for paused nodes (they would wait for the reply). */
    fun redis(index: Int): RedisCoroutinesCommands<String, String> = connections[index].coroutines()

    /** A Redsync over fresh counting nodes; both are closed by the caller (closing the Redsync closes them). */
    fun counting(defaults: LockOptions = LockOptions.defaults()): Pair<Redsync, List<CountingNode>> {
        val counting = nodes.nodes().map { CountingNode(LettuceNode.lazy(client, RedisURI.create(it.uri()))) }
        val redsync = CoroutineRedsync {
            counting.forEach { node(it) }
            this.defaults = defaults
        }.asJava()
        return redsync to counting
    }

    /** A plain Redsync over the nodes' URIs, owning its own client. */
    fun redsync(defaults: LockOptions = LockOptions.defaults()): Redsync = CoroutineRedsync(nodes.uris()) { this.defaults = defaults }.asJava()

    /** Every node's keys, through Lettuce's coroutines API. */
    suspend fun keysByNode(): List<Set<String>> = connections.indices.map { redis(it).keys("*").toList().toSet() }

    /** The value of [key] on every node (null where absent). */
    suspend fun valuesOf(key: String): List<String?> = connections.indices.map { redis(it).get(key) }

    /** Sets [key] to [value] on the given nodes, as another owner would have. */
    suspend fun occupy(key: String, value: String = "someone-else", on: List<Int> = connections.indices.toList(), ttl: Duration = 60.seconds) {
        on.forEach { redis(it).set(key, value, SetArgs.Builder.px(ttl.inWholeMilliseconds)) }
    }

    override fun close() {
        connections.forEach { runCatching { it.close() } }
        client.shutdown(java.time.Duration.ZERO, java.time.Duration.ofSeconds(2))
    }
}

/**
 * [this] is [original], or the copy kotlinx.coroutines makes of it while recovering stack traces in debug
 * mode (on with assertions, as under Surefire), whose cause is the original.
 */
infix fun Throwable?.shouldBeOrRecoveredFrom(original: Throwable) {
    if (this !== original && this?.cause !== original) {
        throw AssertionError("expected $original (or its stack-trace-recovery copy), got $this")
    }
}

/** The first [T] in the cause chain, starting with this. */
inline fun <reified T : Throwable> Throwable?.causeOfType(): T? = generateSequence(this) { it.cause }.filterIsInstance<T>().firstOrNull()
