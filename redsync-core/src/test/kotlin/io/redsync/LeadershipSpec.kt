package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeInstanceOf
import io.redsync.safety.HistoryChecker
import io.redsync.safety.Section
import io.redsync.safety.termRecorder
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.time.Duration
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.time.Duration.Companion.seconds

/** Candidates running a [Leadership] for [name], each on its own instance (as separate processes would). */
private class JavaElection(private val nodes: RedisNodes, private val name: String) : AutoCloseable {
    val history = ConcurrentLinkedQueue<Section>()
    /** "elected a", "revoked a <cause>", in order. */
    val events = CopyOnWriteArrayList<String>()
    val causes = CopyOnWriteArrayList<Throwable?>()
    val instances = LinkedHashMap<String, Redsync>()
    val leaderships = LinkedHashMap<String, Leadership>()

    fun candidate(client: String, action: Leadership.Action? = null) {
        val redsync = nodes.redsync(defaults = LockOptions.builder().expiry(Duration.ofSeconds(3)).nodeTimeout(ms(1000)).fencing(true).build())
        instances[client] = redsync
        val leadership = Leadership.builder(redsync, name)
            .threadFactory { r -> Thread(r, "candidate-$client").apply { isDaemon = true } }
            .listener(object : Leadership.Listener {
                override fun elected(lease: Lease) {
                    events += "elected $client on ${Thread.currentThread().name}"
                }

                override fun revoked(lease: Lease, cause: Throwable?) {
                    causes += cause
                    events += "revoked $client ${cause?.javaClass?.simpleName ?: "stepped down"}"
                }
            })
            .build(action ?: Leadership.Action { lease ->
                // The term as the safety checker sees it: uses after a validity check, the work's end as its release.
                val term = termRecorder(client, lease)
                try {
                    while (term.use()) Thread.sleep(10)
                } finally {
                    history += term.release()
                }
            })
        leaderships[client] = leadership
        leadership.start()
    }

    /** The candidate elected most recently, and not revoked since. */
    fun leader(): String? {
        val last = events.indexOfLast { it.startsWith("elected ") }
        if (last < 0) return null
        val client = events[last].split(' ')[1]
        return if (events.drop(last).any { it.startsWith("revoked $client ") }) null else client
    }

    fun elected(): Int = events.count { it.startsWith("elected ") }

    fun checkHistory() {
        val report = HistoryChecker().check(history.toList())
        if (!report.ok) throw AssertionError(report.describe())
    }

    override fun close() {
        leaderships.values.forEach { it.close() }
        instances.values.forEach { runCatching { it.close() } }
    }
}

class LeadershipSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    test("three candidates: one leads, on the thread factory's thread; stop() steps down at once and another takes over") {
        val election = JavaElection(nodes, "scheduler")
        election.use {
            listOf("a", "b", "c").forEach(election::candidate)
            awaitUntil("someone leads") { election.leader() != null }
            val first = election.leader()!!
            election.events.first() shouldBe "elected $first on candidate-$first"
            election.leaderships.getValue(first).isLeader shouldBe true
            election.leaderships.getValue(first).lease().isPresent shouldBe true
            election.leaderships.getValue(first).stop()
            election.leaderships.getValue(first).isLeader shouldBe false
            election.events shouldContain "revoked $first stepped down"
            // Released by stop(): the next leader need not wait for the keys to expire.
            awaitUntil("another candidate leads") { election.leader().let { it != null && it != first } }
        }
        election.checkHistory()
        nodes.keysByNode().forEach { keys -> keys.filterNot { it.endsWith(":fence") }.shouldBeEmpty() }
    }

    test("takeover after the leader dies (its instance closed abruptly, keys left to expire): no two leaders overlap") {
        val election = JavaElection(nodes, "dies")
        election.use {
            listOf("a", "b", "c").forEach(election::candidate)
            awaitUntil("someone leads") { election.leader() != null }
            val dead = election.leader()!!
            election.instances.getValue(dead).close() // no release: its keys stay until they expire
            awaitUntil("another candidate leads", 20.seconds) { election.leader().let { it != null && it != dead } }
        }
        election.checkHistory()
    }

    test("leadership lost (keys taken over on every node): the action is interrupted before its deadline, and leadership moves on") {
        val election = JavaElection(nodes, "lost")
        election.use {
            listOf("a", "b", "c").forEach(election::candidate)
            awaitUntil("someone leads") { election.leader() != null }
            val leader = election.leader()!!
            val elected = election.elected()
            // Another owner takes the keys over for longer than the 3 s expiry, so that no candidate can lead
            // before the old lease's deadline has passed: any overlap would be the library's fault.
            nodes.nodes().forEach { it.call("SET", "lost", "intruder", "PX", "4000") }
            awaitUntil("the leader learns it lost leadership") { "revoked $leader LeaseLostException" in election.events }
            val loss = election.causes.filterIsInstance<LeaseLostException>().first()
            loss.reason() shouldBe LeaseLostException.Reason.REFUSED
            val term = election.history.first { it.client == leader } // its only term: elected once before the loss
            (term.releasedAt < term.deadline) shouldBe true // interrupted before the validity deadline
            awaitUntil("a new term starts once the intruder's keys expire", 20.seconds) { election.elected() > elected }
        }
        election.checkHistory()
    }

    test("a node killed, then another: with two of three someone leads; with one, nobody; with two again, someone") {
        val election = JavaElection(nodes, "nodes")
        election.use {
            listOf("a", "b", "c").forEach(election::candidate)
            awaitUntil("someone leads") { election.leader() != null }
            val killedAt = System.nanoTime()
            nodes.node(0).kill()
            // A lease whose deadline lies beyond killedAt + expiry was granted or extended on two nodes.
            awaitUntil("someone leads on two of three nodes, extended after the kill") {
                election.leaderships.values.any { leadership ->
                    leadership.lease().map { System.nanoTime() + it.remaining().toNanos() > killedAt + 3_000_000_000L }.orElse(false)
                }
            }
            nodes.node(1).kill()
            awaitUntil("nobody leads without a quorum", 20.seconds) { election.leader() == null }
            nodes.node(0).restart()
            awaitUntil("someone leads again once a quorum is back", 30.seconds) { election.leader() != null }
        }
        election.checkHistory()
    }

    test("an action that throws steps down: revoked with its exception, and the candidate competes again") {
        val election = JavaElection(nodes, "throws")
        var calls = 0
        election.use {
            election.candidate("a") { lease ->
                calls++
                if (calls == 1) throw IllegalStateException("the leader's work failed")
                while (lease.isValid) Thread.sleep(10)
            }
            awaitUntil("elected a second time") { election.elected() == 2 }
        }
        election.events.take(3) shouldBe listOf("elected a on candidate-a", "revoked a IllegalStateException", "elected a on candidate-a")
        election.causes.first()!!.message shouldBe "the leader's work failed"
    }

    test("bad input is refused with what to do: a blank name, a preset owner token, a second start()") {
        nodes.redsync().use { redsync ->
            shouldThrow<IllegalArgumentException> { Leadership.builder(redsync, " ") }.message!! shouldContain "blank"
            shouldThrow<IllegalArgumentException> {
                Leadership.builder(redsync, "x").options(redsync.options().value("fixed").build())
            }.message!! shouldContain "remove value"
            val leadership = Leadership.builder(redsync, "x").build { }
            leadership.start()
            shouldThrow<IllegalStateException> { leadership.start() }.message!! shouldStartWith "leadership 'x' was started already"
            leadership.stop()
            leadership.stop() // idempotent
        }
    }

    test("redsync.options() starts from the instance's defaults: expiry and fencing kept, per-call changes applied") {
        nodes.redsync(defaults = LockOptions.builder().expiry(Duration.ofSeconds(10)).fencing(true).nodeTimeout(ms(1000)).build()).use { redsync ->
            val options = redsync.options().tries(Int.MAX_VALUE).build()
            options.tries() shouldBe Int.MAX_VALUE
            redsync.lock("report", options).use { lease ->
                lease.fencingToken().isPresent shouldBe true
                (nodes.node(0).call("PTTL", "report") as Long > 8_000) shouldBe true
            }
            // LockOptions.builder() starts from the library's defaults: 8 s, no token (issue 16's surprise).
            redsync.lock("report", LockOptions.builder().tries(3).build()).use { lease ->
                lease.fencingToken().isPresent shouldBe false
                (nodes.node(0).call("PTTL", "report") as Long <= 8_000) shouldBe true
            }
            redsync.defaults().tries() shouldBe 32 // building per-call options changed nothing
        }
    }
})
