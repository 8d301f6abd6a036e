package io.redsync.soak

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.core.test.Enabled
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.nodesPerSpec
import java.time.Duration
import kotlin.time.Duration.Companion.hours

/**
 * Resource soak (issue 9): many lock/unlock cycles over 3 real nodes must leave no keys, no heap growth after
 * GC, no thread growth and no new Redis connections; closing must give connections and threads back.
 *
 * The full soak runs only with `-Dredsync.soak=true` (`-Dredsync.soak.cycles=N`, default 1,000,000); see
 * docs/soak.md. A short run of the same code with the same assertions is part of every build, so the soak
 * itself stays tested.
 */
class SoakSpec : FunSpec({
    val nodes = nodesPerSpec(3, RedisNodes::flushAll)

    val soakEnabled = System.getProperty("redsync.soak") == "true"
    val soakCycles = System.getProperty("redsync.soak.cycles")?.let { text ->
        text.replace("_", "").replace(",", "").toLongOrNull()
            ?: throw IllegalArgumentException("-Dredsync.soak.cycles must be a whole number, e.g. 1000000, was '$text'")
    } ?: 1_000_000L

    fun log(line: String) = println("[soak] $line")

    test("short soak (20,000 cycles, every build): no keys, heap, threads or connections left growing") {
        Soak(nodes, 20_000, log = ::log).run().shouldBeHealthy(cycles = 20_000, workersTimedOut = false)
    }

    val skipReason = "full soak skipped: run it with -Dredsync.soak=true [-Dredsync.soak.cycles=N] (see docs/soak.md)"
    test("full soak (-Dredsync.soak=true, $soakCycles cycles): no keys, heap, threads or connections left growing").config(
        timeout = 3.hours,
        enabledOrReasonIf = { if (soakEnabled) Enabled.enabled else Enabled.disabled(skipReason).also { log(skipReason) } },
    ) {
        // The worker pool's idle timeout is 30 s: waiting 45 s for it proves the pool empties after close.
        Soak(nodes, soakCycles, log = ::log).run(workerIdle = Duration.ofSeconds(45)).shouldBeHealthy(soakCycles, workersTimedOut = true)
    }
})

/** Headroom for the heap after GC at the end over the heap after warm-up; see docs/soak.md for the choice. */
const val HEAP_GROWTH_LIMIT_BYTES = 16L * 1024 * 1024

/** Headroom for live threads at the end over after warm-up: JVM-internal threads come and go (see docs/soak.md). */
const val THREAD_GROWTH_LIMIT = 2

/** The redsync-worker pool's fixed ceiling (Scheduler.WORKERS). */
const val WORKER_POOL_MAX = 16

fun Soak.Report.shouldBeHealthy(cycles: Long, workersTimedOut: Boolean) {
    println("[soak] outcomes: $outcomes")
    println("[soak] failures in warm-up (reported, not asserted): $warmupFailures")
    println("[soak] failures after warm-up: $failures")
    failureSamples.forEach { println("[soak] failure sample: $it") }
    println(
        "[soak] %,d cycles in %.1f s (%,.0f cycles/s overall), peak threads after warm-up %d".format(
            completed, seconds, completed / seconds, peakThreads,
        ),
    )

    withClue("failures other than expected contention outcomes, first ones:\n${failureSamples.joinToString("\n")}") {
        failures shouldBe emptyMap()
    }
    completed shouldBe cycles
    withClue("every kind of cycle ran") {
        outcomes.keys shouldContainAll listOf(
            "lock + close (try-with-resources)", "lockAsync + releaseAsync", "lock hot (waited when held)",
            "lock + extend + Mutex.unlock", "executeLocked", "lock + keepAlive (extended in background)",
        )
        outcomes.keys.count { it.startsWith("tryLock") && it.endsWith("acquired") } shouldBe 2
    }
    withClue("hot names were contended") {
        outcomes.filterKeys { it.endsWith("taken (contention)") }.values.sum() shouldBeGreaterThan 0L
    }

    withClue("keys left on the nodes at the end") { end.keys.filter { it != 0L }.shouldBeEmpty() }
    withClue("keys left on the nodes after close") { closed.keys.filter { it != 0L }.shouldBeEmpty() }

    withClue("heap after GC: warmed-up ${warmedUp.heapMb} MB, end ${end.heapMb} MB") {
        (end.heapBytes - warmedUp.heapBytes) shouldBeLessThanOrEqual HEAP_GROWTH_LIMIT_BYTES
    }

    // The redsync-worker pool grows on demand to its ceiling (timer-decided outcomes, lease-lost callbacks) and
    // shrinks after 30 s idle, so it is bounded separately; every other thread must not grow.
    val workers = { s: Snapshot -> s.familyCount("redsync-worker") }
    withClue("live threads other than redsync-worker: warmed-up ${warmedUp.threads - workers(warmedUp)}, end ${end.threads - workers(end)}") {
        (end.threads - workers(end)) shouldBeLessThanOrEqual (warmedUp.threads - workers(warmedUp)) + THREAD_GROWTH_LIMIT
    }
    (listOf(warmedUp) + live + end).forEach { s ->
        withClue("library threads at ${s.label}: ${s.library}") {
            s.familyCount("redsync-worker") shouldBeLessThanOrEqual WORKER_POOL_MAX
            s.familyCount("redsync-timer") shouldBeLessThanOrEqual 1
            s.library.values.sumOf { it.nonDaemon } shouldBe 0
        }
        withClue("Redis connections per node at ${s.label}, after warm-up ${warmedUp.clients}") {
            s.clients shouldBe warmedUp.clients
        }
    }
    withClue("Lettuce threads: warmed-up ${warmedUp.library}, end ${end.library}") {
        end.familyCount("lettuce") shouldBe warmedUp.familyCount("lettuce")
    }

    withClue("after close, Redis connections per node back to before (${before.clients}), were ${closed.clients}") {
        closed.clients shouldBe before.clients
    }
    withClue("after close, Lettuce threads: before ${before.library}, closed ${closed.library}") {
        closed.familyCount("lettuce") shouldBeLessThanOrEqual before.familyCount("lettuce")
    }
    withClue("after close, the shared daemon threads stay bounded: ${closed.library}") {
        closed.familyCount("redsync-timer") shouldBeLessThanOrEqual 1
        closed.familyCount("redsync-worker") shouldBeLessThanOrEqual (if (workersTimedOut) 0 else WORKER_POOL_MAX)
        closed.library.values.sumOf { it.nonDaemon } shouldBe 0
    }
    val shared = { s: Snapshot -> s.familyCount("redsync-timer") + s.familyCount("redsync-worker") }
    withClue("after close, threads other than the shared daemon ones back to before: before ${before.threads}, closed ${closed.threads}") {
        (closed.threads - shared(closed)) shouldBeLessThanOrEqual (before.threads - shared(before)) + THREAD_GROWTH_LIMIT
    }
}
