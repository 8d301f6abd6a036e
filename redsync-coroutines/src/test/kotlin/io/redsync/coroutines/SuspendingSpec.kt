package io.redsync.coroutines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeLessThanOrEqual
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.lettuce.core.ExperimentalLettuceCoroutinesApi
import io.lettuce.core.RedisURI
import io.lettuce.core.api.coroutines
import io.redsync.Lease
import io.redsync.LockOptions
import io.redsync.Mutex
import io.redsync.LockTakenException
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import java.lang.reflect.Proxy
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

@OptIn(ExperimentalLettuceCoroutinesApi::class)
class SuspendingSpec : FunSpec({
    val cluster = clusterPerSpec()
    val nodes = cluster.nodes

    context("suspend functions over the core's futures") {
        test("awaitLock, awaitExtend(ttl), awaitValid and awaitRelease on a Mutex and its Lease") {
            cluster.redsync().use { redsync ->
                val mutex = redsync.mutex("order:7")
                val lease = mutex.awaitLock()
                cluster.valuesOf("order:7") shouldContainExactly List(3) { lease.value() }
                mutex.awaitValid() shouldBe true

                lease.awaitExtend(20.seconds)
                (0 until 3).forEach { cluster.redis(it).pttl("order:7")!!.let { ttl -> ttl shouldBeGreaterThan 19_000; ttl shouldBeLessThanOrEqual 20_000 } }
                lease.awaitExtend() // back to the options' expiry (8 s)
                cluster.redis(0).pttl("order:7")!! shouldBeLessThanOrEqual 8_000

                lease.awaitRelease()
                lease.awaitRelease() // a second release is a no-op
                mutex.awaitValid() shouldBe false
                cluster.keysByNode().forEach { it.shouldBeEmpty() }
            }
        }

        test("awaitUnlock and awaitExtend on the Mutex act on its latest lease") {
            cluster.redsync(lockOptions { expiry = 2.seconds }).use { redsync ->
                val mutex = redsync.mutex("latest")
                val lease = mutex.awaitLock()
                cluster.redis(1).pexpire("latest", 500)
                mutex.awaitExtend()
                cluster.redis(1).pttl("latest")!! shouldBeGreaterThan 1_000
                mutex.awaitUnlock()
                lease.isReleased shouldBe true
                cluster.keysByNode().forEach { it.shouldBeEmpty() }
            }
        }

        test("awaitTryLock returns null when another owner holds a quorum, and a lease when free") {
            cluster.occupy("contested", on = listOf(0, 2))
            cluster.redsync().use { redsync ->
                redsync.mutex("contested").awaitTryLock().shouldBeNull()
                awaitUntil("the partial hold on node 1 is given back") { cluster.redis(1).get("contested") == null }
                val lease = redsync.mutex("free").awaitTryLock().shouldNotBeNull()
                lease.awaitRelease()
            }
        }

        test("a lease granted in the instant the caller is cancelled is released, not leaked") {
            cluster.redsync().use { redsync ->
                val granted = redsync.mutex("instant").awaitLock() // a real lease, handed out by the fake below
                val future = CompletableFuture<Lease>()
                val mutex = Proxy.newProxyInstance(Mutex::class.java.classLoader, arrayOf(Mutex::class.java)) { _, method, _ ->
                    if (method.name == "lockAsync") future else throw UnsupportedOperationException(method.name)
                } as Mutex
                // The waiter's only thread is kept busy while the future completes and the waiter is cancelled,
                // so the resumption with the lease and the cancellation meet, as they can on a loaded machine.
                val executor = Executors.newSingleThreadExecutor()
                val dispatcher = executor.asCoroutineDispatcher()
                try {
                    val waiter = launch(dispatcher) { mutex.awaitLock() }
                    awaitUntil("the waiter is suspended in awaitLock") { future.numberOfDependents > 0 }
                    val busy = CountDownLatch(1)
                    executor.execute { busy.await() }
                    future.complete(granted)
                    waiter.cancel()
                    busy.countDown()
                    waiter.join()
                    waiter.isCancelled shouldBe true
                    future.isCancelled shouldBe false // too late to cancel: the lease existed
                    awaitUntil("the lease is released") { granted.isReleased && cluster.keysByNode().all { it.isEmpty() } }
                } finally {
                    dispatcher.close()
                }
            }
        }

        test("awaitLock throws the core's LockTakenException when tries run out") {
            cluster.occupy("taken")
            cluster.redsync(lockOptions { tries = 2; retryDelay { 1.milliseconds } }).use { redsync ->
                shouldThrow<LockTakenException> { redsync.awaitLock("taken") }.message!! shouldContain "taken"
            }
        }

        test("awaitLock under withTimeout: the TimeoutCancellationException propagates and no key of ours is left") {
            cluster.occupy("slow", on = listOf(0, 1))
            cluster.redsync(lockOptions { valueGenerator = { "mine" } }).use { redsync ->
                val e = shouldThrow<TimeoutCancellationException> { withTimeout(200.milliseconds) { redsync.awaitLock("slow") } }
                (e is CancellationException) shouldBe true
                awaitUntil("node 2 holds no key of ours") { cluster.redis(2).get("slow") == null }
                cluster.valuesOf("slow") shouldContainExactly listOf("someone-else", "someone-else", null)
            }
        }
    }

    context("construction with CoroutineRedsync(...) { }") {
        test("from the application's Lettuce connections: keyPrefix and defaults apply, the connections stay open") {
            val connections = nodes.nodes().map { cluster.client.connect(RedisURI.create(it.uri())) }
            try {
                CoroutineRedsync {
                    connections.forEach { node(it) }
                    keyPrefix = "billing:locks:"
                    defaults { expiry = 5.seconds }
                }.use { redsync ->
                    redsync.nodeCount shouldBe 3
                    redsync.quorum shouldBe 2
                    redsync.defaults.expiry() shouldBe java.time.Duration.ofSeconds(5)
                    redsync.withLock("invoice:1") { lease ->
                        // The caller's connection, through Lettuce's coroutines API, sees the prefixed key.
                        val ttl = connections[0].coroutines().pttl("billing:locks:invoice:1")!!
                        ttl shouldBeGreaterThan 0
                        ttl shouldBeLessThanOrEqual 5_000
                        connections[2].coroutines().get("billing:locks:invoice:1") shouldBe lease.value
                    }
                }
                connections.forEach { it.isOpen shouldBe true }
                connections[0].coroutines().exists("billing:locks:invoice:1") shouldBe 0L
            } finally {
                connections.forEach { it.close() }
            }
        }

        test("from URIs plus nodes over the application's client, in that order") {
            val uris = nodes.uris()
            CoroutineRedsync(uris.take(1)) {
                node(cluster.client, RedisURI.create(uris[1]))
                uri(uris[2])
                defaults = LockOptions.builder().tries(1).build()
            }.use { redsync ->
                redsync.nodeCount shouldBe 3
                redsync.defaults.tries() shouldBe 1
                redsync.withLock("mixed") { cluster.valuesOf("mixed").toSet().size shouldBe 1 }
            }
            cluster.keysByNode().forEach { it.shouldBeEmpty() }
        }

        test("without nodes, Java's builder refuses with its message") {
            shouldThrow<IllegalArgumentException> { CoroutineRedsync { keyPrefix = "x:" } }.message!! shouldContain "no Redis nodes given"
        }
    }
})
