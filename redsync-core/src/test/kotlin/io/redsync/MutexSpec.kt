package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.comparables.shouldBeLessThanOrEqualTo
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeInRange
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import io.redsync.internal.lockWithToken
import io.kotest.matchers.string.shouldNotContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.time.Duration
import java.time.Instant
import java.util.concurrent.TimeUnit

class MutexSpec : FunSpec({
    val nodes = nodesPerSpec(5)

    context("on 1, 3 and 5 nodes") {
        withData(nameFn = { "$it node(s)" }, 1, 3, 5) { n ->
            nodes.redsync(n).use { redsync ->
                redsync.quorum() shouldBe n / 2 + 1
                val mutex = redsync.mutex("orders")
                mutex.name() shouldBe "orders"
                mutex.value().isPresent shouldBe false
                mutex.until().isPresent shouldBe false
                mutex.valid() shouldBe false

                val before = Instant.now()
                val lease = mutex.lock()
                val after = Instant.now()
                lease.name() shouldBe "orders"
                lease.isValid shouldBe true
                mutex.value().get() shouldBe lease.value()
                // Validity = expiry - elapsed - drift (8 s - 82 ms), measured from the attempt's start.
                val until = mutex.until().get()
                until shouldBeLessThanOrEqualTo after.plus(ms(8000 - 82 + 50))
                until shouldBeGreaterThan before.plus(ms(8000 - 82 - 500))
                lease.remaining() shouldBeLessThanOrEqualTo ms(8000 - 82)

                nodes.nodesHolding("orders") shouldContainExactly (0 until n).toList()
                (0 until n).forEach { nodes.node(it).call("GET", "orders") shouldBe lease.value() }
                (0 until n).forEach { (nodes.node(it).call("PTTL", "orders") as Long) shouldBeInRange 7000L..8000L }
                mutex.valid() shouldBe true

                // A second caller cannot take it: tryLock reports "busy" as empty, lock as LockTakenException.
                redsync.mutex("orders").tryLock().isPresent shouldBe false
                val taken = shouldThrow<LockTakenException> {
                    redsync.mutex("orders", LockOptions.builder().tries(2).retryDelay(RetryDelay.constant(ms(1))).build()).lock()
                }
                taken.nodes() shouldContainExactly (0 until n).toList()
                taken.attempts() shouldBe 2

                mutex.unlock()
                nodes.nodesHolding("orders").shouldBeEmpty()
                mutex.valid() shouldBe false

                val again = redsync.mutex("orders").tryLock().get()
                again.value() shouldNotBe lease.value()
                again.close()
                nodes.nodesHolding("orders").shouldBeEmpty()
            }
        }
    }

    test("extend resets the TTL on every node and moves the validity deadline") {
        nodes.redsync(3).use { redsync ->
            val options = LockOptions.builder().expiry(ms(2000)).build()
            val mutex = redsync.mutex("extend-me", options)
            val lease = mutex.lock()
            (0..2).forEach { nodes.node(it).call("PEXPIRE", "extend-me", "500") }
            lease.extend()
            (0..2).forEach { (nodes.node(it).call("PTTL", "extend-me") as Long) shouldBeInRange 1500L..2000L }
            lease.remaining() shouldBeGreaterThan ms(1500)

            lease.extend(Duration.ofSeconds(30))
            (0..2).forEach { (nodes.node(it).call("PTTL", "extend-me") as Long) shouldBeInRange 29000L..30000L }
            lease.remaining() shouldBeGreaterThan ms(29000)

            mutex.extend()
            (0..2).forEach { (nodes.node(it).call("PTTL", "extend-me") as Long) shouldBeInRange 1500L..2000L }
            lease.close()
        }
    }

    test("extend(ttl) rejects a bad ttl without touching Redis") {
        nodes.redsync(3).use { redsync ->
            val lease = redsync.lock("ttl-check")
            nodes.nodes().forEach { it.call("CONFIG", "RESETSTAT") }
            shouldThrow<IllegalArgumentException> { lease.extend(Duration.ZERO) }.message shouldBe "ttl must be > 0, was PT0S"
            shouldThrow<IllegalArgumentException> { lease.extend(ms(3)) }.message!! shouldContain "ttl must be at least 2 × drift"
            nodes.nodes().sumOf { it.scriptCalls() } shouldBe 0
            lease.close()
        }
    }

    test("extending a lease that expired locally fails without touching Redis") {
        nodes.redsync(3).use { redsync ->
            val lease = redsync.lock("short", LockOptions.builder().expiry(ms(100)).build())
            awaitUntil("lease expires locally") { !lease.isValid }
            nodes.nodes().forEach { it.call("CONFIG", "RESETSTAT") }
            shouldThrow<LeaseExpiredException> { lease.extend() }.votes() shouldBe null
            shouldThrow<LeaseExpiredException> { lease.checkValid() }.message!! shouldContain "expired"
            nodes.nodes().sumOf { it.scriptCalls() } shouldBe 0
        }
    }

    test("unlock after the keys expired reports LeaseExpiredException, not 'taken'") {
        nodes.redsync(3).use { redsync ->
            val mutex = redsync.mutex("gone")
            val lease = mutex.lock()
            nodes.flushAll()
            val e = shouldThrow<LeaseExpiredException> { mutex.unlock() }
            e.votes()!!.absent() shouldContainExactly listOf(0, 1, 2)
            e.message!! shouldContain "had already expired"
            lease.isReleased shouldBe true
            lease.close() // a second release is a no-op
        }
    }

    test("keys gone on a majority while the lease is still valid: the message says the lock may have been taken meanwhile") {
        nodes.redsync(3).use { redsync ->
            val lease = redsync.lock("wiped")
            nodes.flushAll()
            lease.isValid shouldBe true
            shouldThrow<LeaseExpiredException> { lease.release() }.message!! shouldContain "while the lease was still valid"
        }
    }

    test("nodes down at release: release() throws UnlockFailedException, close() logs it and returns") {
        nodes.redsync(3).use { redsync ->
            val explicit = redsync.lock("down-1")
            val closed = redsync.lock("down-2")
            listOf(1, 2).forEach { nodes.node(it).kill() }
            val e = shouldThrow<UnlockFailedException> { explicit.release() }
            e.votes()!!.succeeded() shouldContainExactly listOf(0)
            e.votes()!!.failed() shouldContainExactly listOf(1, 2)
            e.suppressed.size shouldBe 2
            closed.close() // does not throw: the work is done and the keys expire by TTL
            closed.isReleased shouldBe true
            nodes.node(0).keys().shouldBeEmpty()
        }
    }

    test("unlock and extend of a lock someone else took report LockNotHeldException with the nodes") {
        nodes.redsync(3).use { redsync ->
            val mutex = redsync.mutex("stolen")
            val lease = mutex.lock()
            listOf(1, 2).forEach { nodes.node(it).call("SET", "stolen", "intruder") }
            shouldThrow<LockNotHeldException> { lease.extend() }.nodes() shouldContainExactly listOf(1, 2)
            shouldThrow<LockNotHeldException> { lease.release() }.nodes() shouldContainExactly listOf(1, 2)
            // Compare-and-delete never deletes another owner's key.
            nodes.nodesHolding("stolen") shouldContainExactly listOf(1, 2)
            nodes.node(1).call("GET", "stolen") shouldBe "intruder"
            mutex.valid() shouldBe false
        }
    }

    test("a lock held by one client cannot be released or extended by another that lacks its value") {
        nodes.redsync(3).use { a ->
            nodes.redsync(3).use { b ->
                val lease = a.lock("mine")
                shouldThrow<IllegalStateException> { b.mutex("mine").unlock() }.message!! shouldContain "holds no lease"
                val guess = b.mutex("mine", LockOptions.builder().value("guessed").build())
                shouldThrow<LockNotHeldException> { guess.unlock() }
                shouldThrow<LockNotHeldException> { guess.extend() }
                nodes.nodesHolding("mine") shouldContainExactly listOf(0, 1, 2)
                lease.close()
            }
        }
    }

    test("preset value: another process that knows the value can extend and unlock (ownership transfer)") {
        nodes.redsync(3).use { a ->
            nodes.redsync(3).use { b ->
                val lease = a.mutex("job:7", LockOptions.builder().expiry(ms(2000)).build()).lock()
                val heir = b.mutex("job:7", LockOptions.builder().value(lease.value()).expiry(ms(5000)).build())
                heir.value().get() shouldBe lease.value()
                heir.valid() shouldBe true
                heir.extend()
                (nodes.node(0).call("PTTL", "job:7") as Long) shouldBeGreaterThan 4000L
                heir.until().isPresent shouldBe true
                heir.unlock()
                nodes.nodesHolding("job:7").shouldBeEmpty()
            }
        }
    }

    test("a lock call with a preset value stores it with a suffix of its own") {
        nodes.redsync(3).use { redsync ->
            val lease = redsync.lock("preset", LockOptions.builder().value("owner-42").build())
            lease.value() shouldStartWith "owner-42#"
            nodes.node(2).call("GET", "preset") shouldBe lease.value()
            lease.close()
        }
    }

    test("a custom value generator supplies the owner token") {
        nodes.redsync(3).use { redsync ->
            val lease = redsync.lock("gen", LockOptions.builder().valueGenerator { "custom-" + System.nanoTime() }.build())
            (nodes.node(0).call("GET", "gen") as String) shouldContain "custom-"
            lease.close()
        }
    }

    test("key prefix namespaces the keys, not the names") {
        nodes.redsync(3, prefix = "billing:locks:").use { redsync ->
            redsync.keyPrefix() shouldBe "billing:locks:"
            val lease = redsync.lock("invoice:42")
            lease.name() shouldBe "invoice:42"
            nodes.keysByNode().take(3).forEach { it shouldBe setOf("billing:locks:invoice:42") }
            // Another namespace is another lock.
            nodes.redsync(3, prefix = "other:").use { other -> other.mutex("invoice:42").tryLock().get().close() }
            lease.close()
            nodes.keysByNode().forEach { it.shouldBeEmpty() }
        }
    }

    context("setNXOnExtend") {
        test("on: extension re-creates keys that expired") {
            nodes.redsync(3).use { redsync ->
                val lease = redsync.lock("nx", LockOptions.builder().setNXOnExtend(true).build())
                nodes.flushAll()
                lease.extend()
                nodes.nodesHolding("nx") shouldContainExactly listOf(0, 1, 2)
                lease.close()
            }
        }
        test("off: extension of expired keys fails and creates nothing") {
            nodes.redsync(3).use { redsync ->
                val lease = redsync.lock("nx")
                nodes.flushAll()
                shouldThrow<LeaseExpiredException> { lease.extend() }
                nodes.nodesHolding("nx").shouldBeEmpty()
            }
        }
    }

    test("idempotent acquire: on a retry, keys already holding this call's value count as acquired and get a fresh TTL") {
        nodes.redsync(3).use { redsync ->
            // Two nodes kept our value from an earlier attempt whose replies were lost; the third is free.
            // The first attempt (plain SET NX) counts them as taken; the retry refreshes them as ours.
            listOf(0, 1).forEach { nodes.node(it).call("SET", "retry", "v-1", "PX", "300") }
            // "v-1" stands for this call's own token (every lock call gets a fresh one; a preset value or a
            // custom generator's is suffixed per call: see LeaseSafetySpec).
            val options = LockOptions.builder().retryDelay(RetryDelay.constant(ms(1))).releaseNotifications(false).build()
            val lease = redsync.mutex("retry", options).lockWithToken("v-1", tries = 2)
            lease.value() shouldBe "v-1"
            (0..2).forEach { (nodes.node(it).call("PTTL", "retry") as Long) shouldBeGreaterThan 7000L }
            lease.close()
            nodes.nodesHolding("retry").shouldBeEmpty()
        }
    }

    test("scripts survive SCRIPT FLUSH: EVALSHA falls back to EVAL transparently") {
        nodes.redsync(3).use { redsync ->
            val mutex = redsync.mutex("flushed")
            mutex.lock()
            nodes.nodes().forEach { it.call("SCRIPT", "FLUSH") }
            mutex.extend()
            mutex.unlock()
            nodes.nodes().forEach { it.call("SCRIPT", "FLUSH") }
            val lease = mutex.lock()
            nodes.nodesHolding("flushed") shouldContainExactly listOf(0, 1, 2)
            lease.close()
            val evals = nodes.nodes().take(3).map {
                Regex("cmdstat_eval:calls=(\\d+)").find(it.call("INFO", "commandstats") as String)!!.groupValues[1].toLong()
            }
            evals.forEach { it shouldBeGreaterThan 0L }
        }
    }

    test("a lease taken on one thread can be released on another") {
        nodes.redsync(3).use { redsync ->
            val lease = java.util.concurrent.Executors.newSingleThreadExecutor().let { ex ->
                try { ex.submit<Lease> { redsync.lock("handoff") }.get(10, TimeUnit.SECONDS) } finally { ex.shutdown() }
            }
            val t = Thread { lease.release() }
            t.start(); t.join(10_000)
            lease.isReleased shouldBe true
            nodes.nodesHolding("handoff").shouldBeEmpty()
        }
    }

    test("the async API returns futures of the same operations") {
        nodes.redsync(3).use { redsync ->
            val mutex = redsync.mutex("async")
            val lease = mutex.lockAsync().get(10, TimeUnit.SECONDS)
            mutex.validAsync().get(10, TimeUnit.SECONDS) shouldBe true
            lease.extendAsync(Duration.ofSeconds(20)).get(10, TimeUnit.SECONDS)
            (nodes.node(0).call("PTTL", "async") as Long) shouldBeGreaterThan 19000L
            mutex.tryLockAsync().get(10, TimeUnit.SECONDS).isPresent shouldBe false
            redsync.mutex("async").tryLockAsync().get(10, TimeUnit.SECONDS).isPresent shouldBe false
            mutex.unlockAsync().get(10, TimeUnit.SECONDS)
            nodes.nodesHolding("async").shouldBeEmpty()
            lease.releaseAsync().get(10, TimeUnit.SECONDS) // no-op
            redsync.lockAsync("async").get(10, TimeUnit.SECONDS).releaseAsync().get(10, TimeUnit.SECONDS)
        }
    }

    test("toString never shows the owner token") {
        nodes.redsync(3).use { redsync ->
            val lease = redsync.lock("secret")
            lease.toString() shouldNotContain lease.value()
            lease.close()
        }
    }

    test("lease-expired exceptions are QuorumExceptions carrying votes") {
        nodes.redsync(3).use { redsync ->
            val lease = redsync.lock("votes")
            nodes.flushAll()
            shouldThrow<QuorumException> { lease.release() }.shouldBeInstanceOf<LeaseExpiredException>()
        }
    }
})
