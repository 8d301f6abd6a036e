package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.api.StatefulRedisConnection
import io.redsync.internal.Fences
import io.redsync.testkit.RedisNodes

/** The storage side of fencing: [FencedWrites] on a real node. */
class FencedWritesSpec : FunSpec({
    val nodes = RedisNodes.start(3)
    val client = RedisClient.create()
    lateinit var storage: StatefulRedisConnection<String, String>
    beforeSpec { storage = client.connect(RedisURI.create(nodes.uris()[0])) }
    afterSpec {
        storage.close()
        client.shutdown()
        nodes.close()
    }
    afterTest { nodes.flushAll() }

    val fenced = LockOptions.builder().fencing(true).build()

    fun write(key: String, value: String, token: Long): Boolean =
        FencedWrites.setIfNewer(storage.async(), key, value, token).toCompletableFuture().get()

    test("data written on a lock node under the lock's own name shares neither the lock's key nor its fencing counter") {
        nodes.redsync().use { redsync ->
            redsync.lock("account:9", fenced).use { lease ->
                val token = lease.fencingToken().asLong
                val counter = nodes.node(0).call("GET", Fences.counterKey("account:9"))

                write("account:9", "100", token) shouldBe true
                FencedWrites.get(storage.async(), "account:9").toCompletableFuture().get() shouldBe "100"

                // The lock is untouched: its key still holds the lease's value with its TTL, the counter is as it was.
                nodes.node(0).call("GET", "account:9") shouldBe lease.value()
                (nodes.node(0).call("PTTL", "account:9") as Long) shouldBeGreaterThan 0L
                nodes.node(0).call("GET", Fences.counterKey("account:9")) shouldBe counter
                lease.release()
            }
            // The next holder's token is one more, and its write is accepted too.
            redsync.lock("account:9", fenced).use { next ->
                write("account:9", "90", next.fencingToken().asLong) shouldBe true
            }
        }
    }

    test("the holder's own second write and an idempotent retry with the same token are accepted; a lower token is rejected") {
        write("balance:9", "100", 5) shouldBe true
        write("balance:9", "120", 5) shouldBe true
        write("balance:9", "120", 5) shouldBe true
        write("balance:9", "0", 4) shouldBe false
        write("balance:9", "130", 6) shouldBe true
        write("balance:9", "0", 5) shouldBe false
    }

    test("get reads the last applied value; nothing written reads null; storage keys never look like a lock's") {
        FencedWrites.get(storage.async(), "never").toCompletableFuture().get() shouldBe null
        write("report", "v1", 3) shouldBe true
        write("report", "stale", 2) shouldBe false
        FencedWrites.get(storage.async(), "report").toCompletableFuture().get() shouldBe "v1"
        nodes.node(0).keys() shouldBe setOf(FencedWrites.storageKey("report"))
        FencedWrites.storageKey("report") shouldBe "{report}:fenced"
        FencedWrites.storageKey("{user:7}:balance") shouldBe "{user:7}:balance:fenced"
    }

    test("a token below 1 is refused, naming the fix") {
        shouldThrow<IllegalArgumentException> { write("x", "v", 0) }.message shouldBe
            "token must be >= 1, was 0; pass lease.fencingToken().getAsLong() of a lease acquired with fencing(true)"
    }
})
