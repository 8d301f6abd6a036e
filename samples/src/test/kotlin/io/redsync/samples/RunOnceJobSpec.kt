package io.redsync.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.redsync.Redsync
import io.redsync.testkit.RedisNodes
import java.nio.file.Files

class RunOnceJobSpec : FunSpec({
    val nodes = RedisNodes.start(3)
    val dir = Files.createTempDirectory("redsync-run-once-spec")
    afterSpec { nodes.close() }

    test("three JVMs fire the same job at the same instant: exactly one runs it") {
        val env = mapOf("REDSYNC_NODES" to nodes.uris().joinToString(","))
        // Every process connects first, then fires at the same wall-clock instant, as cron would.
        val at = System.currentTimeMillis() + 4_000
        val fleet = (1..3).map {
            startJvm(RunOnceJob::class.java.name, listOf("--instance", "--run=multi-jvm", "--at=$at"), env, dir)
        }
        val finished = fleet.map { it.finish() }
        finished.map { it.exitCode } shouldContainExactly listOf(0, 0, 0)
        val verdicts = finished.flatMap { it.stdout.lines() }.filter { it.contains(" nightly-report multi-jvm in process ") }
        verdicts.count { it.startsWith("RAN ") } shouldBe 1
        verdicts.count { it.startsWith("SKIPPED ") } shouldBe 2
        finished.sumOf { f -> f.stdout.lines().count { it.contains("sending the nightly-report for multi-jvm") } } shouldBe 1
        // The lock is left to expire with the window, so that a late instance skips too: on a quorum of the
        // nodes, not necessarily on node 0 (instances firing at the same instant can split the votes, and a
        // loser gives back the node it took: CI once found node 0 empty with the winner on nodes 1 and 2).
        val held = nodes.nodes().count { it.call("PTTL", "job:nightly-report:multi-jvm").toString().toLong() > 60_000L }
        held shouldBeGreaterThanOrEqual 2
        Redsync.create(nodes.uris()).use { late ->
            RunOnceJob.runOnce(late, RunOnceJob.JOB, "multi-jvm", RunOnceJob.WINDOW) { error("must not run") } shouldBe RunOnceJob.Outcome.SKIPPED
        }
    }

    test("a fleet of five instances in one JVM: exactly one runs the job, and the next run is a new lock") {
        val first = captureStdout { RunOnceJob.fleet(nodes.uris(), 5, "threads-1").count { it == RunOnceJob.Outcome.RAN } shouldBe 1 }
        first.lines().count { it.contains("sending the nightly-report for threads-1") } shouldBe 1
        captureStdout { RunOnceJob.fleet(nodes.uris(), 5, "threads-2").count { it == RunOnceJob.Outcome.RAN } shouldBe 1 }
    }
})
