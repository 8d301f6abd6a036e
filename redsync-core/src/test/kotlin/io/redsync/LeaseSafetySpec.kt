package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.comparables.shouldBeLessThanOrEqualTo
import io.kotest.matchers.longs.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldStartWith
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.redsync.lettuce.LettuceNode
import io.redsync.testkit.FaultProxy
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.nodesPerSpec
import io.redsync.testkit.fixtures.ms
import java.time.Duration
import java.time.Instant
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit

/**
 * Issue 13, items 1-4 and 6: no lock granted twice, and a lease that never reports more validity than the
 * nodes give it. Each spec failed before its fix (see the comments for what it showed then).
 */
class LeaseSafetySpec : FunSpec({
    val nodes = nodesPerSpec(3)
    val client = RedisClient.create()
    afterSpec { client.shutdown() }

    context("1: cleanup never deletes a key the attempt cannot prove it wrote") {
        test("a preset value shared by two calls: the failed call's cleanup of a late node leaves the holder's key") {
            val holderOptions = LockOptions.builder().value("V").expiry(Duration.ofSeconds(20)).tries(1).build()
            val options = holderOptions.toBuilder().nodeTimeout(ms(100)).build()
            // The holder gets a bare quorum {0, 1}: node 2 is busy while it locks, then freed.
            nodes.node(2).call("SET", "shared", "blocker", "PX", "60000")
            nodes.redsync(defaults = holderOptions).use { holderSide ->
                val holder = holderSide.lock("shared")
                nodes.node(2).call("DEL", "shared")
                FaultProxy.to(nodes.node(0)).use { proxy ->
                    val uris = listOf(proxy.uri()) + nodes.uris().drop(1)
                    Redsync.builder().uris(uris).defaults(options).build().use { contender ->
                        contender.mutex("warm-up", holderOptions).tryLock().get().close() // connections up before the fault
                        proxy.latency(Duration.ZERO, ms(400)) // node 0's replies arrive after the 100 ms node timeout
                        nodes.node(0).call("CONFIG", "RESETSTAT")
                        shouldThrow<RedsyncException> { contender.lock("shared") }
                        // Node 0's late reply says "held by another owner" (the holder's V#suffix): since issue 18 the
                        // cleanup sends that node no compare-and-delete at all. Let the 400 ms late reply land (and any
                        // release it would cause run) before the holder's key is checked.
                        CompletableFuture.runAsync({}, CompletableFuture.delayedExecutor(1_500, TimeUnit.MILLISECONDS)).get()
                        nodes.node(0).scriptCalls() shouldBe 0L
                    }
                }
                holder.isValid shouldBe true
                // Before the fix node 0 held nothing: the contender's cleanup deleted the holder's key ...
                nodes.node(0).call("GET", "shared") shouldBe holder.value()
                // ... and a third owner got {0, 2} while the holder still reported 19 s of validity.
                nodes.redsync().use { third -> third.mutex("shared").tryLock().isPresent shouldBe false }
                holder.release()
            }
        }

        test("an expired lease's release leaves the keys of a later call with the same preset value") {
            val options = LockOptions.builder().value("V").expiry(ms(600)).nodeTimeout(ms(200)).tries(1).build()
            nodes.redsync(defaults = options).use { redsync ->
                val stale = redsync.lock("handover")
                awaitUntil("the first lease's keys expired") { nodes.nodesHolding("handover").isEmpty() }
                val current = redsync.mutex("handover", options.toBuilder().expiry(Duration.ofSeconds(20)).build()).lock()
                // Before the fix this release deleted the current holder's keys (same value) and succeeded.
                shouldThrow<LockNotHeldException> { stale.release() }
                nodes.nodesHolding("handover") shouldBe listOf(0, 1, 2)
                current.isValid shouldBe true
                current.release()
            }
        }

        test("each lock call with a preset value stores its own token; unlock by the preset value still releases it") {
            val options = LockOptions.builder().value("owner-42").build()
            nodes.redsync(defaults = options).use { a ->
                val lease = a.lock("preset")
                lease.value() shouldStartWith "owner-42"
                lease.value() shouldNotBe "owner-42"
                nodes.node(0).call("GET", "preset") shouldBe lease.value()
                nodes.redsync(defaults = options).use { b -> b.mutex("preset").unlock() }
                nodes.nodesHolding("preset") shouldBe emptyList()
            }
        }
    }

    context("2: concurrent extensions of one lease") {
        test("a longer extension answered after a shorter one issued later does not set the deadline") {
            val wrappers = nodes.nodes().map { DelayingNode(LettuceNode.lazy(client, RedisURI.create(it.uri()))) }
            val options = LockOptions.builder().expiry(Duration.ofSeconds(10)).build()
            Redsync.builder().defaults(options).apply { wrappers.forEach { node(it) } }.build().use { redsync ->
                val lease = redsync.lock("ext")
                wrappers.forEach { it.extendDelayMs = 300 }
                val long = lease.extendAsync(Duration.ofSeconds(8)) // runs on the nodes at once; replies in 300 ms
                wrappers.forEach { it.extendDelayMs = 0 }
                lease.extend(ms(1000)) // the nodes end with 1 s
                long.get(5, TimeUnit.SECONDS)
                nodes.nodes().forEach { (it.call("PTTL", "ext") as Long) shouldBeLessThanOrEqual 1000L }
                // Before the fix: about 7.7 s (the 8 s extension's reply was processed last).
                lease.remaining() shouldBeLessThanOrEqualTo ms(1000)
                lease.release()
            }
        }
    }

    context("3: a non-unique value generator") {
        test("two lock calls never both hold the lock, whatever the generator returns") {
            val options = LockOptions.builder().valueGenerator { "host-a" }.expiry(Duration.ofSeconds(10))
                .tries(3).retryDelay(RetryDelay.constant(ms(20))).build()
            nodes.redsync(defaults = options).use { redsync ->
                val first = redsync.lock("host")
                // Before the fix the second call's retry refreshed the first's keys and was granted.
                shouldThrow<LockTakenException> { redsync.lock("host") }
                first.isValid shouldBe true
                nodes.nodes().forEach { it.call("GET", "host") shouldBe first.value() }
                first.release()
            }
        }
    }

    context("4: a refused extension marks the lease lost") {
        test("extend() refused by another owner: the lease is lost and reports no validity") {
            nodes.redsync(defaults = LockOptions.builder().expiry(Duration.ofSeconds(10)).build()).use { redsync ->
                val lease = redsync.lock("refused")
                nodes.nodes().forEach { it.call("SET", "refused", "intruder", "PX", "60000") }
                shouldThrow<LockNotHeldException> { lease.extend() }
                // Before the fix: valid, about 10 s remaining.
                lease.isLost shouldBe true
                lease.isValid shouldBe false
                lease.remaining() shouldBe Duration.ZERO
                lease.until() shouldBeLessThanOrEqualTo Instant.now()
                shouldThrow<LeaseLostException> { lease.checkValid() }.reason() shouldBe LeaseLostException.Reason.REFUSED
            }
        }

        test("a keep-alive loss leaves no remaining validity") {
            nodes.redsync(defaults = LockOptions.builder().expiry(ms(1500)).build()).use { redsync ->
                val lease = redsync.lock("kept").keepAlive()
                nodes.nodes().forEach { it.call("DEL", "kept") }
                awaitUntil("the keep-alive declared the loss") { lease.isLost }
                // Before the fix: remaining() still reported the time up to the old deadline.
                lease.remaining() shouldBe Duration.ZERO
                lease.until() shouldBeLessThanOrEqualTo Instant.now()
                lease.isValid shouldBe false
            }
        }
    }

    context("6: executeLocked and a loss") {
        test("a loss declared before the action returned fails the call; an interrupt from elsewhere is kept") {
            nodes.redsync(defaults = LockOptions.builder().expiry(ms(1500)).build()).use { redsync ->
                try {
                    shouldThrow<LeaseLostException> {
                        redsync.mutex("interrupted").executeLocked<String, RuntimeException> { lease ->
                            Thread.currentThread().interrupt() // not from the library
                            nodes.nodes().forEach { it.call("DEL", "interrupted") }
                            while (!lease.isLost) Thread.onSpinWait()
                            "done"
                        }
                    }
                    // Before the fix: false, the library cleared the interrupt it had not sent.
                    Thread.interrupted() shouldBe true
                } finally {
                    Thread.interrupted()
                }
            }
        }
    }
})
