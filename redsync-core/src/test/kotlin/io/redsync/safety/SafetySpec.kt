package io.redsync.safety

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.redsync.testkit.Persistence
import java.time.Duration
import kotlin.random.Random
import kotlin.time.Duration.Companion.seconds

/** The nemesis seed: -Dredsync.nemesis.seed=... to re-run a schedule, else a fresh one (always printed). */
fun nemesisSeed(): Long = System.getProperty("redsync.nemesis.seed")?.toLong() ?: Random.nextLong(1, 1_000_000_000)

/**
 * Configuration (a) of issue 9: under random faults that stay within Redlock's assumptions (a killed node
 * restarts only after the longest TTL, or keeps its data with fsync-always), the checker finds no violation.
 * CI runs a bounded version; -Dredsync.nemesis.soak=true runs -Dredsync.nemesis.minutes (default 5) and
 * prints the figures.
 */
class SafetySpec : FunSpec({
    val soak = System.getProperty("redsync.nemesis.soak") == "true"
    val minutes = System.getProperty("redsync.nemesis.minutes")?.toLong() ?: 5
    // Soak: half the time for each configuration; CI: 20 s each.
    val seconds = if (soak) minutes * 30 else 20
    val expiry = SafetyOptions.lock.expiry()

    fun verify(label: String, run: SafetyRun) {
        println("${label}: nemesis seed ${run.seed} (re-run with -Dredsync.nemesis.seed=${run.seed})")
        val outcome = run.run()
        println(outcome.describe(label))
        if (!outcome.report.ok) println(outcome.nemesisLog.joinToString("\n", "nemesis log:\n"))
        outcome.report.violations.shouldBeEmpty()
        outcome.leakedKeys.shouldBeEmpty()
        outcome.report.sections shouldBeGreaterThan 100
        outcome.faults.values.sum() shouldBeGreaterThan 5
    }

    // Beyond Kotest's default test timeout in a soak: the run itself plus start-up and the clients' last calls.
    val timeout = (seconds + 120).seconds

    test("(a) no persistence, restarts delayed past the longest TTL: $seconds s of faults, no violation, no leaked key").config(timeout = timeout) {
        verify("delayed restarts", SafetyRun(Persistence.NONE, expiry.plusMillis(250), seconds, nemesisSeed(), threads = 8))
    }

    test("(a) fsync-always, immediate restarts, clients in 2 child JVMs and this one: $seconds s of faults, no violation").config(timeout = timeout) {
        verify("fsync-always, 3 JVMs", SafetyRun(Persistence.APPEND_ONLY_FSYNC_ALWAYS, Duration.ZERO, seconds, nemesisSeed(),
            threads = 4, childJvms = 2, childThreads = 4))
    }
})
