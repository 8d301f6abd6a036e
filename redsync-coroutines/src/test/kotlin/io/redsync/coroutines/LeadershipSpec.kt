package io.redsync.coroutines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.lettuce.core.ExperimentalLettuceCoroutinesApi
import io.redsync.LeaseLostException
import io.redsync.safety.HistoryChecker
import io.redsync.safety.Section
import io.redsync.safety.termRecorder
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** Candidates leading [name], each on its own instance (as separate processes would), recording every term. */
class Election(private val nodes: RedisNodes, private val name: String) {
    /** Supervised: a candidate whose lead() fails (its instance closed under it) leaves the others running. */
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    val history = ConcurrentLinkedQueue<Section>()
    val events = CopyOnWriteArrayList<Pair<String, LeadershipEvent>>()
    val instances = LinkedHashMap<String, CoroutineRedsync>()
    val jobs = LinkedHashMap<String, Job>()
    val failures = ConcurrentLinkedQueue<Pair<String, Throwable>>()

    fun candidate(client: String) {
        val redsync = CoroutineRedsync(nodes.uris()) {
            defaults {
                expiry = 3.seconds // kept alive every second; declared lost 300 ms before the deadline at the latest
                nodeTimeout = 1.seconds
                fencing = true
            }
        }
        instances[client] = redsync
        jobs[client] = scope.launch {
            try {
                redsync.lead(name, onEvent = { events += client to it }) { lease ->
                    // The term as the safety checker sees it: uses after a validity check, the block's end as its release.
                    val term = termRecorder(client, lease.asJava())
                    try {
                        while (term.use()) delay(10)
                    } finally {
                        history += term.release()
                    }
                }
            } catch (e: Throwable) {
                failures += client to e // recorded for the test to judge; the job ends
            }
        }
    }

    /** The candidate elected most recently, and not revoked since. */
    fun leader(): String? {
        val last = events.lastOrNull { it.second is LeadershipEvent.Elected } ?: return null
        val revokedAfter = events.subList(events.indexOf(last), events.size).any { it.first == last.first && it.second is LeadershipEvent.Revoked }
        return if (revokedAfter) null else last.first
    }

    fun electedCount(): Int = events.count { it.second is LeadershipEvent.Elected }

    suspend fun stop() {
        jobs.values.forEach { it.cancelAndJoin() }
        scope.cancel()
        instances.values.forEach { runCatching { it.close() } }
    }

    /** Fails with the checker's report unless no two terms overlapped (and tokens only grew). */
    fun checkHistory() {
        val report = HistoryChecker().check(history.toList())
        if (!report.ok) throw AssertionError(report.describe())
        report.sections shouldBe history.size
    }
}

@OptIn(ExperimentalLettuceCoroutinesApi::class)
class LeadershipSpec : FunSpec({
    val cluster = clusterPerSpec()
    val nodes = cluster.nodes

    test("three candidates: exactly one leads; stopping the leader (cancellation) releases at once and another takes over") {
        val election = Election(nodes, "scheduler")
        try {
            listOf("a", "b", "c").forEach(election::candidate)
            awaitUntil("someone leads") { election.leader() != null }
            val first = election.leader()!!
            election.jobs.getValue(first).cancelAndJoin()
            // Released on cancellation: the next leader need not wait for the keys to expire.
            awaitUntil("another candidate leads") { election.leader().let { it != null && it != first } }
            val revoked = election.events.single { it.first == first && it.second is LeadershipEvent.Revoked }.second as LeadershipEvent.Revoked
            revoked.cause shouldBe null
        } finally {
            election.stop()
        }
        election.failures.filter { it.second !is kotlinx.coroutines.CancellationException }.shouldBeEmpty()
        election.checkHistory()
        cluster.keysByNode().forEach { keys -> keys.filterNot { it.endsWith(":fence") }.shouldBeEmpty() }
    }

    test("takeover after the leader dies (its instance closed abruptly, keys left to expire): no two leaders overlap") {
        val election = Election(nodes, "dies")
        try {
            listOf("a", "b", "c").forEach(election::candidate)
            awaitUntil("someone leads") { election.leader() != null }
            val dead = election.leader()!!
            election.instances.getValue(dead).close() // no release: its keys stay until they expire
            awaitUntil("another candidate leads", 20.seconds) { election.leader().let { it != null && it != dead } }
            election.jobs.getValue(dead).join()
            // The dead leader's keep-alive failed on a closed instance: its block was cancelled as lost, and
            // lead() then failed to compete on the closed instance.
            election.failures.single { it.first == dead }.second.shouldBeInstanceOf<IllegalStateException>()
        } finally {
            election.stop()
        }
        election.checkHistory()
    }

    test("leadership lost (keys taken over on every node): the block is cancelled before its deadline, and leadership moves on without overlap") {
        val election = Election(nodes, "lost")
        try {
            listOf("a", "b", "c").forEach(election::candidate)
            awaitUntil("someone leads") { election.leader() != null }
            val leader = election.leader()!!
            val elected = election.electedCount()
            // Another owner takes the keys over (as an operator's DEL followed by another process's SET
            // would), for longer than the leader's 3 s expiry, so that no candidate can lead before the old
            // lease's deadline has passed: any overlap would be the library's fault.
            nodes.nodes().forEach { it.call("SET", "lost", "intruder", "PX", "4000") }
            awaitUntil("the leader learns it lost leadership") {
                election.events.any { it.first == leader && (it.second as? LeadershipEvent.Revoked)?.cause is LeaseLostException }
            }
            val loss = election.events.map { it.second }.filterIsInstance<LeadershipEvent.Revoked>().first { it.cause != null }
            (loss.cause as LeaseLostException).reason() shouldBe LeaseLostException.Reason.REFUSED
            val term = election.history.first { it.client == leader } // its only term: elected once before the loss
            // Cancelled before the validity deadline: the block's end (its section's release) came first.
            (term.releasedAt < term.deadline) shouldBe true
            awaitUntil("a new term starts once the intruder's keys expire", 20.seconds) { election.electedCount() > elected }
        } finally {
            election.stop()
        }
        election.failures.filter { it.second !is kotlinx.coroutines.CancellationException }.shouldBeEmpty()
        election.checkHistory()
    }

    test("a node killed, then another: with two of three the leader keeps leading or another takes over; with one, nobody leads") {
        val election = Election(nodes, "nodes")
        try {
            listOf("a", "b", "c").forEach(election::candidate)
            awaitUntil("someone leads") { election.leader() != null }
            val killedAt = System.nanoTime()
            nodes.node(0).kill()
            // A lease whose deadline lies beyond killedAt + expiry was granted or extended on two nodes.
            awaitUntil("someone leads on two of three nodes, extended after the kill") {
                election.events.map { it.second }.filterIsInstance<LeadershipEvent.Elected>().any { elected ->
                    elected.lease.isValid && System.nanoTime() + elected.lease.remaining.inWholeNanoseconds > killedAt + 3_000_000_000L
                }
            }
            nodes.node(1).kill()
            awaitUntil("nobody leads without a quorum", 20.seconds) { election.leader() == null }
            nodes.node(0).restart()
            awaitUntil("someone leads again once a quorum is back", 30.seconds) { election.leader() != null }
        } finally {
            election.stop()
        }
        election.failures.filter { it.second !is kotlinx.coroutines.CancellationException }.shouldBeEmpty()
        election.checkHistory()
    }

    test("a failing block ends lead() with its exception, after the release and a Revoked event carrying it") {
        CoroutineRedsync(nodes.uris()) { defaults { nodeTimeout = 2.seconds } }.use { redsync ->
            val events = CopyOnWriteArrayList<LeadershipEvent>()
            val failure = BlockFailure(3)
            shouldThrow<BlockFailure> {
                redsync.lead("failing", onEvent = { events += it }) { throw failure }
            } shouldBeOrRecoveredFrom failure
            events.map { it::class.simpleName } shouldBe listOf("Elected", "Revoked")
            (events[1] as LeadershipEvent.Revoked).cause.shouldNotBeNull() shouldBeOrRecoveredFrom failure
            cluster.keysByNode().forEach { it.shouldBeEmpty() }
        }
    }

    test("options presetting an owner token are refused: each term needs its own") {
        CoroutineRedsync(nodes.uris()).use { redsync ->
            shouldThrow<IllegalArgumentException> {
                redsync.lead("x", redsync.options { value = "fixed" }) { }
            }.message!! shouldContain "value"
        }
    }
})
