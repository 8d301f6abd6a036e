package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.comparables.shouldBeGreaterThan
import io.kotest.matchers.comparables.shouldBeLessThanOrEqualTo
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.nodesPerSpec
import java.time.Duration
import java.time.temporal.ChronoUnit

/** "Is it locked?": [Mutex.holderTtl] asks real nodes whether any owner holds a lock on a quorum. */
class HolderTtlSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    val expiry = Duration.ofSeconds(30)
    val options = LockOptions.builder().expiry(expiry).build()

    test("a lock held by another instance is locked, with the holder's TTL; this instance's valid() says false") {
        nodes.redsync().use { holder ->
            nodes.redsync().use { observer ->
                holder.lock("report", options).use {
                    val ttl = observer.mutex("report").holderTtl().get()
                    ttl shouldBeLessThanOrEqualTo expiry
                    ttl shouldBeGreaterThan Duration.ZERO
                    // Why Redisson's isLocked() must not map to valid(): that asks about this mutex's own lease.
                    observer.mutex("report").valid() shouldBe false
                    observer.mutex("report").holderTtlAsync().get().isPresent shouldBe true
                }
                observer.mutex("report").holderTtl().isPresent shouldBe false
            }
        }
    }

    test("a free lock is not locked; the query writes nothing") {
        nodes.redsync().use { redsync ->
            redsync.mutex("free").holderTtl() shouldBe java.util.Optional.empty()
            nodes.keysByNode().forEach { it shouldBe emptySet() }
        }
    }

    test("a key on a minority is no lock, nor are different owners' keys none of which has a quorum") {
        nodes.node(0).call("SET", "minority", "someone", "PX", "30000")
        nodes.node(0).call("SET", "split", "a", "PX", "30000")
        nodes.node(1).call("SET", "split", "b", "PX", "30000")
        nodes.redsync().use { redsync ->
            redsync.mutex("minority").holderTtl().isPresent shouldBe false
            redsync.mutex("split").holderTtl().isPresent shouldBe false
        }
    }

    test("the TTL is the quorum-th longest of the holder's keys, when the lock stops standing on a quorum") {
        nodes.node(0).call("SET", "skewed", "v", "PX", "30000")
        nodes.node(1).call("SET", "skewed", "v", "PX", "20000")
        nodes.node(2).call("SET", "skewed", "v", "PX", "5000")
        nodes.redsync().use { redsync ->
            val ttl = redsync.mutex("skewed").holderTtl().get()
            ttl shouldBeLessThanOrEqualTo Duration.ofSeconds(20)
            ttl shouldBeGreaterThan Duration.ofSeconds(5)
        }
    }

    test("keys without a TTL (not ours) count as held forever") {
        nodes.node(0).call("SET", "stuck", "v")
        nodes.node(1).call("SET", "stuck", "v")
        nodes.redsync().use { redsync ->
            redsync.mutex("stuck").holderTtl().get() shouldBe ChronoUnit.FOREVER.duration
        }
    }

    test("the mutex's own lease counts too, and a key prefix is applied") {
        nodes.redsync(prefix = "locks:").use { redsync ->
            val mutex = redsync.mutex("own", options)
            mutex.lock().use {
                nodes.nodesHolding("locks:own") shouldBe listOf(0, 1, 2)
                mutex.holderTtl().isPresent shouldBe true
            }
        }
    }

    test("when the failed nodes could make up a quorum with a holder's keys, the answer is unknown, not 'free'") {
        nodes.node(0).call("SET", "unknown", "v", "PX", "30000")
        nodes.node(2).kill()
        nodes.redsync().use { redsync ->
            val e = shouldThrow<LockQueryException> { redsync.mutex("unknown", options).holderTtl() }
            e.message shouldContain "cannot tell whether lock 'unknown' is held"
            e.votes().failed() shouldBe listOf(2)
            // With no key anywhere the two answering nodes settle it: not held.
            redsync.mutex("nothing", options).holderTtl().isPresent shouldBe false
        }
    }
})
