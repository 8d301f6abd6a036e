package io.redsync

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.heal
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.ms
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicReference

/** Virtual threads exist from JDK 21; built for 17, so reached by reflection. */
private val virtualThreads: Boolean = runCatching { Thread::class.java.getMethod("ofVirtual") }.isSuccess

private fun virtualExecutor(): ExecutorService =
    Executors::class.java.getMethod("newVirtualThreadPerTaskExecutor").invoke(null) as ExecutorService

/** Runs [block] with a virtual-thread executor, shut down after (ExecutorService is not AutoCloseable on 17). */
private fun <T> withVirtualThreads(block: (ExecutorService) -> T): T {
    val executor = virtualExecutor()
    try {
        return block(executor)
    } finally {
        executor.shutdown()
        executor.awaitTermination(30, TimeUnit.SECONDS)
    }
}

private fun Thread.isVirtualThread(): Boolean = Thread::class.java.getMethod("isVirtual").invoke(this) as Boolean

/**
 * The blocking API on virtual threads: same behaviour as on platform threads. Skipped on JDK 17; the
 * `jdk25` profile (active where /usr/lib/jvm/temurin-25-jdk-amd64 exists) runs it on JDK 25.
 */
class VirtualThreadSpec : FunSpec({
    val nodes = if (virtualThreads) RedisNodes.start(3) else null
    afterSpec { nodes?.close() }

    test("200 virtual threads contend on one lock: sections never overlap, nothing is left behind").config(enabled = virtualThreads) {
        nodes!!.heal()
        nodes.redsync(defaults = fastRetryBuilder().build()).use { redsync ->
            val sections = ConcurrentLinkedQueue<Section>()
            val onVirtual = ConcurrentLinkedQueue<Boolean>()
            withVirtualThreads { executor ->
                (0 until 200).map { id ->
                    executor.submit {
                        redsync.lock("vt").use {
                            val entered = System.nanoTime()
                            onVirtual.add(Thread.currentThread().isVirtualThread())
                            sections.add(Section(id, entered, System.nanoTime()))
                        }
                    }
                }.forEach { it.get(120, TimeUnit.SECONDS) }
            }
            sections.size shouldBe 200
            onVirtual.all { it } shouldBe true
            assertNoOverlap(sections)
            nodes.keysByNode().forEach { it.shouldBeEmpty() }
        }
    }

    test("executeLocked on a virtual thread: a lost lease interrupts it and throws LeaseLostException").config(enabled = virtualThreads) {
        nodes!!.heal()
        nodes.redsync(defaults = LockOptions.builder().expiry(ms(600)).build()).use { redsync ->
            val started = CountDownLatch(1)
            val outcome = AtomicReference<Throwable>()
            withVirtualThreads { executor ->
                val done = executor.submit {
                    try {
                        redsync.executeLocked<Unit, Exception>("vt-lost") { _ ->
                            started.countDown()
                            Thread.sleep(10_000)
                        }
                    } catch (e: Throwable) {
                        outcome.set(e)
                    }
                }
                started.await(5, TimeUnit.SECONDS) shouldBe true
                nodes.nodes().forEach { it.call("DEL", "vt-lost") }
                done.get(5, TimeUnit.SECONDS)
            }
            outcome.get().shouldBeInstanceOf<LeaseLostException>().reason() shouldBe LeaseLostException.Reason.REFUSED
        }
    }
})
