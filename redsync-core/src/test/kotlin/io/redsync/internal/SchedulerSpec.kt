package io.redsync.internal

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import io.redsync.LockOptions
import io.redsync.LockTakenException
import io.redsync.Redsync
import io.redsync.RetryDelay
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.io.PrintStream
import java.io.PrintWriter
import java.time.Duration
import java.util.concurrent.CountDownLatch
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/**
 * An Error as it meets the timer under memory pressure: thrown by a task, and again by whoever tries to log it
 * (printing a stack trace allocates), and again by whoever logs that. Netty's wheel catches what a task throws and
 * logs it; the Error thrown by that logging ended the shared timer's thread (issue 18).
 */
private class UnloggableError(private val depth: Int = 2) : Error("expected by the test") {
    private fun again(): Nothing =
        throw if (depth > 0) UnloggableError(depth - 1) else OutOfMemoryError("simulated: no memory to log")

    override fun printStackTrace(s: PrintStream): Unit = again()
    override fun printStackTrace(s: PrintWriter): Unit = again()
}

/** The shared timer (`redsync-timer`) and its workers outlive any task that throws. */
class SchedulerSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    test("a timer task that throws an Error, even while being logged, leaves the timer running for later tasks") {
        val thrown = CountDownLatch(1)
        Scheduler.schedule({ thrown.countDown(); throw UnloggableError() }, 0)
        thrown.await(10, TimeUnit.SECONDS) shouldBe true
        val ran = AtomicInteger()
        repeat(3) { i -> Scheduler.schedule({ ran.incrementAndGet() }, TimeUnit.MILLISECONDS.toNanos(i * 20L)) }
        awaitUntil("the tasks scheduled after the throwing one ran") { ran.get() == 3 }
    }

    test("a worker task that throws while being logged leaves the workers draining") {
        val workers = Workers("unloggable-test", 2)
        val ran = AtomicInteger()
        // As many as the workers may have threads: each drainer such an Error ended stayed counted as draining.
        repeat(2) { workers.execute { throw UnloggableError() } }
        repeat(10) { workers.execute { ran.incrementAndGet() } }
        awaitUntil("later tasks ran") { ran.get() == 10 }
    }

    test("after a throwing timer task, retries and node timeouts still fire and close() still returns") {
        Scheduler.schedule({ throw UnloggableError() }, 0)
        Redsync.builder().uris(nodes.uris()).build().use { redsync ->
            val holder = redsync.lock("timer-survives", LockOptions.builder().expiry(Duration.ofSeconds(60)).build())
            // Its retries wait on the timer: without it the call would never end.
            val retried = LockOptions.builder().tries(3).retryDelay(RetryDelay.constant(ms(20)))
                .releaseNotifications(false).build()
            val error = shouldThrow<ExecutionException> { redsync.lockAsync("timer-survives", retried).get(30, TimeUnit.SECONDS) }
            error.cause.shouldBeInstanceOf<LockTakenException>()
            // A waiter in flight when the instance closes: close() fails it and returns.
            val waiter = redsync.lockAsync("timer-survives", LockOptions.builder().tries(Int.MAX_VALUE).build())
            redsync.close()
            val closed = shouldThrow<ExecutionException> { waiter.get(30, TimeUnit.SECONDS) }
            closed.cause.shouldBeInstanceOf<IllegalStateException>()
            holder.isValid shouldBe true
        }
    }
})
