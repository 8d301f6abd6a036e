package io.redsync.benchmarks

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import io.kotest.matchers.string.shouldStartWith
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.redsync.LockTakenException
import io.redsync.NodeException
import io.redsync.Redsync
import io.redsync.UnlockFailedException
import io.redsync.Votes
import io.redsync.testkit.RedisNodes
import java.util.concurrent.CompletionException
import java.util.concurrent.TimeoutException

/**
 * Smoke only (issue 18's benchmark workloads): the crowd's bookkeeping counts what it should, the error types
 * read as the report prints them, and a small crowd runs against a real node and stops cleanly. Nothing here
 * is timed; the figures come from the suite (exec:java).
 */
class CrowdSmokeSpec : FunSpec({
    val nodes = RedisNodes.start(1)
    val client = RedisClient.create()
    afterSpec {
        client.shutdown()
        nodes.close()
    }

    test("a hand-off is an acquisition by another waiter after a release in the window; two holders are a violation") {
        val rec = Handoff.Recorder(2)
        rec.acquired(0, 1)
        rec.releasing(0, 1)
        rec.openWindow()
        rec.acquired(0, 2) // the release before the window does not time a hand-off
        rec.releasing(0, 2)
        rec.acquired(0, 2) // the same waiter again: an acquisition, no hand-off
        rec.releasing(0, 2)
        rec.acquired(0, 3)
        rec.acquired(1, 4) // another name: no violation
        rec.acquired(1, 5) // a second holder of name 1
        rec.closeWindow()
        rec.acquisitions.sum() shouldBe 5L
        rec.handoffs.sum() shouldBe 1L
        rec.handoffWait.totalCount shouldBe 1L
        rec.releases.sum() shouldBe 2L
        rec.violations.get() shouldBe 1L
    }

    test("CPU per hand-off: thread groups without their numbers, a busy group named, the nodes' share from INFO cpu") {
        CpuUse.group("lettuce-nioEventLoop-4-1") shouldBe "lettuce-nioEventLoop"
        CpuUse.group("DefaultDispatcher-worker-2") shouldBe "DefaultDispatcher-worker"
        CpuUse.group("probe") shouldBe "probe"
        CpuUse.supported() shouldBe true
        val burned = java.util.concurrent.CountDownLatch(1)
        val sampled = java.util.concurrent.CountDownLatch(1)
        // Alive at both samples (a thread that ended in between is not counted), busy for 300 ms of CPU in between.
        val burner = Thread({
            val bean = java.lang.management.ManagementFactory.getThreadMXBean()
            val start = bean.currentThreadCpuTime
            var x = 1L
            while (bean.currentThreadCpuTime - start < 300_000_000) x = x * 31 + 7
            if (x == 42L) println(x)
            burned.countDown()
            sampled.await()
        }, "burner-7")
        val before = CpuUse.now(1.0)
        burner.start()
        burned.await()
        val after = CpuUse.now(1.5)
        sampled.countDown()
        burner.join()
        val text = after.perEvent(before, 1000)
        text shouldStartWith "JVM "
        // 300 ms over 1,000 events is at least 300 µs each, in the group "burner".
        Regex("burner (\\d+)").find(text)!!.groupValues[1].toLong() shouldBeGreaterThanOrEqual 300L
        text shouldContain "Redis 500;" // (1.5 s - 1.0 s) / 1,000
        text shouldContain "KB per hand-off"
        after.perEvent(before, 0) shouldBe "no events"
    }

    test("error types: wrappers unwrapped, quorum failures named with their node errors' causes, 'taken' plain") {
        val timedOut = NodeException("n", 0, "127.0.0.1:6379", TimeoutException("late"))
        val votes = Votes(1, 1, listOf(), listOf(), listOf(), listOf(0), listOf(), listOf(timedOut))
        Burst.errorType(CompletionException(UnlockFailedException("n", "not released", votes))) shouldBe
            "UnlockFailedException (TimeoutException)"
        Burst.errorType(CompletionException(IllegalStateException("x"))) shouldBe "IllegalStateException"
        val taken = Votes(1, 1, listOf(), listOf(0), listOf(), listOf(), listOf(), listOf())
        Burst.errorType(LockTakenException("n", "taken", 1, taken)) shouldBe "LockTakenException"
    }

    test("a small redsync crowd hands its names over, never two holders, and stops with every key released") {
        Redsync.builder().node(client, RedisURI.create(nodes.uris()[0])).build().use { redsync ->
            val rec = Handoff.Recorder(4)
            runSmall(rec, OursCrowd(redsync, Handoff.names("smoke:crowd:", 4), 40, 1, Suite.HANDOFF_WAITING, rec))
            client.connect(RedisURI.create(nodes.uris()[0])).use { c ->
                awaitUntil("no key left") { c.sync().dbsize() == 0L }
            }
        }
    }

    test("a small Redisson crowd runs the same way and drains when stopped") {
        val redisson = Suite.redissonClient(nodes.uris()[0])
        try {
            val rec = Handoff.Recorder(4)
            runSmall(rec, Handoff.redisson(redisson, Handoff.names("smoke:redisson:", 4), 40, 1, 60_000, rec))
        } finally {
            redisson.shutdown()
        }
    }
})

/** Runs [crowd] until 40 releases, stops it: every waiter ended, names were handed over, never two holders. */
private fun runSmall(rec: Handoff.Recorder, crowd: Handoff.Crowd) {
    rec.openWindow()
    crowd.start()
    awaitUntil("40 releases") { rec.releases.sum() >= 40 }
    rec.closeWindow()
    crowd.stop(30_000) shouldNotContain "still"
    rec.handoffs.sum() shouldBeGreaterThanOrEqual 1L
    rec.violations.get() shouldBe 0L
}

/** Polls [condition] until it holds or 30 s pass. Never a fixed sleep. */
private fun awaitUntil(what: String, condition: () -> Boolean) {
    val end = System.nanoTime() + 30_000_000_000L
    while (!condition()) {
        if (System.nanoTime() - end > 0) throw AssertionError("not within 30 s: $what")
        Thread.sleep(5)
    }
}
