package io.redsync.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.redsync.safety.HistoryChecker
import io.redsync.safety.Section
import io.redsync.testkit.RedisNodes
import java.nio.file.Files
import java.util.concurrent.TimeUnit

/** One line the sample prints: `elected|use|lost|ended <instance> <nanos> [<value>]`. */
private data class Event(val kind: String, val instance: String, val at: Long, val value: Long?)

private fun events(stdout: String): List<Event> = stdout.lines()
    .map { it.split(' ') }
    .filter { it.size >= 3 && it[0] in setOf("elected", "use", "lost", "ended") }
    .map { Event(it[0], it[1], it[2].toLong(), it.getOrNull(3)?.toLong()) }

/**
 * One instance's terms as the safety checker's sections. A term that never printed `ended` (its process was
 * killed) is never released: it is trusted until the last validity deadline it reported.
 */
private fun sections(events: List<Event>): List<Section> {
    val out = ArrayList<Section>()
    var open: Section? = null
    for (e in events) {
        when (e.kind) {
            "elected" -> open = Section(e.instance, LeaderElection.NAME, e.at, e.at, Long.MAX_VALUE, e.value ?: -1)
            "use" -> open = open?.let { it.copy(deadline = maxOf(it.deadline, e.value!!), uses = it.uses + e.at) }
            "lost" -> open = open?.let { it.copy(lostAt = it.lostAt ?: e.at) }
            "ended" -> {
                open?.let { out += it.copy(releasedAt = e.at) }
                open = null
            }
        }
    }
    open?.let { out += it }
    return out
}

class LeaderElectionSpec : FunSpec({
    val nodes = RedisNodes.start(3)
    val dir = Files.createTempDirectory("redsync-leader-election-spec")
    afterSpec { nodes.close() }

    test("three JVMs elect one leader; killed, paused or a Redis node down, a new leader takes over and no two leaders overlap") {
        val env = mapOf("REDSYNC_NODES" to nodes.uris().joinToString(","))
        val fleet = (1..3).map { startJvm(LeaderElection::class.java.name, listOf("--instance"), env, dir) }
        val byInstance = fleet.associateBy { "pid" + it.process.pid() } // the sample names each instance by its pid
        fun all(): List<Event> = fleet.flatMap { events(it.stdout()) }.sortedBy { it.at }

        /** Waits (polling the children's output, bounded) for an election after [since] by someone not in [excluded]. */
        fun awaitElection(since: Long, excluded: Set<String>, what: String): Event {
            val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
            while (System.nanoTime() < deadline) {
                all().firstOrNull { it.kind == "elected" && it.at > since && it.instance !in excluded }?.let { return it }
                Thread.sleep(50)
            }
            throw AssertionError("no $what within 30 s; the instances printed:\n" + fleet.joinToString("\n---\n") { it.stdout().takeLast(2000) })
        }

        val takeovers = ArrayList<String>()
        try {
            val first = awaitElection(0, emptySet(), "first leader")

            // 1. The leader's JVM is killed (SIGKILL): no release; its keys expire and another instance leads.
            val killedAt = System.nanoTime()
            byInstance.getValue(first.instance).signal("KILL")
            val second = awaitElection(killedAt, setOf(first.instance), "leader after the kill")
            takeovers += "after SIGKILL: ${(second.at - killedAt) / 1_000_000} ms"

            // 2. The new leader's JVM is paused (SIGSTOP) for longer than the 3 s expiry: the third instance
            //    takes over; resumed, the paused one finds its lease gone and stops working as leader.
            val pausedAt = System.nanoTime()
            val paused = byInstance.getValue(second.instance)
            paused.signal("STOP")
            val third = try {
                awaitElection(pausedAt, setOf(first.instance, second.instance), "leader while the leader is paused")
            } finally {
                paused.signal("CONT")
            }
            takeovers += "after SIGSTOP: ${(third.at - pausedAt) / 1_000_000} ms"

            // 3. A Redis node is killed: two of three remain, and some instance leads on them.
            val nodeKilledAt = System.nanoTime()
            nodes.node(0).kill()
            val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
            while (all().none { it.kind == "use" && it.at > nodeKilledAt + TimeUnit.SECONDS.toNanos(4) }) {
                if (System.nanoTime() > deadline) throw AssertionError("nobody led on two of three nodes within 30 s")
                Thread.sleep(50)
            }
        } finally {
            fleet.forEach { if (it.process.isAlive) it.signal("TERM") }
            fleet.forEach { if (!it.process.waitFor(20, TimeUnit.SECONDS)) it.process.destroyForcibly() }
            nodes.node(0).restart()
        }
        println("leader election takeovers: $takeovers")

        val history = fleet.flatMap { sections(events(it.stdout())) }
        val report = HistoryChecker().check(history)
        println(report.describe())
        if (!report.ok) throw AssertionError(report.describe())
        (history.map { it.client }.toSet().size >= 3) shouldBe true // all three led at some point
        report.describe() shouldContain "no violations"
    }
})
