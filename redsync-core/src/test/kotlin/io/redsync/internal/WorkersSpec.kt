package io.redsync.internal

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.redsync.testkit.fixtures.awaitUntil
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/** The executor behind timer-made decisions: one thread for a burst, more only while threads are blocked. */
class WorkersSpec : FunSpec({
    test("a burst of ten thousand quick tasks runs on one thread at a time, not one per task up to the maximum") {
        // The stall check off (an hour): on a loaded machine it rightly adds a drainer when the only one is
        // descheduled for its 50 ms, which is not what this case is about; the next case covers it.
        val workers = Workers("burst-test", 16, TimeUnit.HOURS.toNanos(1))
        val ran = AtomicInteger()
        val running = AtomicInteger()
        val mostAtOnce = AtomicInteger()
        repeat(10_000) {
            workers.execute {
                mostAtOnce.accumulateAndGet(running.incrementAndGet(), ::maxOf)
                ran.incrementAndGet()
                running.decrementAndGet()
            }
        }
        awaitUntil("all ran") { ran.get() == 10_000 }
        mostAtOnce.get() shouldBe 1
        // A pool with 16 core threads started 16 here. The pool may hold a few more than the one drainer: when
        // the queue empties mid-burst, the next task starts a drain before the last drainer's thread is back
        // in the pool (CI once saw 3), but those are idle, and far from one per task.
        workers.threadCount() shouldBeLessThan 16
    }

    test("a task blocking its thread does not hold up the ones queued behind it") {
        val workers = Workers("blocking-test", 4)
        val release = CountDownLatch(1)
        val started = CountDownLatch(1)
        workers.execute { started.countDown(); release.await(30, TimeUnit.SECONDS) }
        started.await(10, TimeUnit.SECONDS) shouldBe true
        val ran = AtomicInteger()
        repeat(100) { workers.execute { ran.incrementAndGet() } }
        awaitUntil("queued tasks ran on another thread while the first is blocked") { ran.get() == 100 }
        release.countDown()
        workers.threadCount() shouldBe 2
    }

    test("a task that throws does not stop the tasks after it") {
        val workers = Workers("throwing-test", 2)
        val ran = AtomicInteger()
        workers.execute { throw IllegalStateException("expected by the test") }
        repeat(10) { workers.execute { ran.incrementAndGet() } }
        awaitUntil("later tasks ran") { ran.get() == 10 }
    }
})
