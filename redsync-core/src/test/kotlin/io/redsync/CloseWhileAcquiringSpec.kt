package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.nodesPerSpec
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit

/** What a blocked caller sees when the application closes its Redsync (the README's error reference). */
class CloseWhileAcquiringSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    fun occupy(name: String) = nodes.nodes().forEach {
        it.call("SET", name, "holder", "PX", "60000")
        it.call("CONFIG", "RESETSTAT")
    }

    test("a thread blocked in lock() gets IllegalStateException naming the lock; nothing of its attempt stays") {
        occupy("busy")
        val redsync = nodes.redsync()
        val waiting = CompletableFuture.supplyAsync {
            runCatching { redsync.lock("busy", LockOptions.builder().tries(Int.MAX_VALUE).build()) }.exceptionOrNull()
        }
        awaitUntil("the first attempt was made") { nodes.node(0).lockCommands() >= 1 }
        redsync.close()
        val thrown = waiting.get(10, TimeUnit.SECONDS)
        (thrown is IllegalStateException) shouldBe true
        thrown!!.message shouldBe "Redsync was closed while acquiring lock 'busy'"
        nodes.nodes().forEach { it.call("GET", "busy") shouldBe "holder" }
    }

    test("executeLocked and lockAsync report the same; a call after close is refused at once") {
        occupy("busy")
        val redsync = nodes.redsync()
        val forever = LockOptions.builder().tries(Int.MAX_VALUE).build()
        val executing = CompletableFuture.supplyAsync {
            runCatching { redsync.executeLocked<String, RuntimeException>("busy", forever) { "ran" } }.exceptionOrNull()
        }
        val async = redsync.lockAsync("busy", forever)
        awaitUntil("both attempts were made") { nodes.node(0).lockCommands() >= 2 }
        redsync.close()
        executing.get(10, TimeUnit.SECONDS)!!.message shouldBe "Redsync was closed while acquiring lock 'busy'"
        shouldThrow<ExecutionException> { async.get(10, TimeUnit.SECONDS) }.cause!!.message shouldBe
            "Redsync was closed while acquiring lock 'busy'"
        shouldThrow<IllegalStateException> { redsync.lock("busy") }.message shouldBe "Redsync is closed; build a new instance"
    }
})
