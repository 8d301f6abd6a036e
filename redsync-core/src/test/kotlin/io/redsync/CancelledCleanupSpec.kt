package io.redsync

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.nodesPerSpec
import java.time.Duration

/**
 * A cancelled attempt cleans up only where its acquire may have written: a node whose answer, even one arriving
 * after the cancellation, was "held by another owner" gets no release (issue 18: every such node got a release
 * script, doubling node work in a cancellation storm).
 */
class CancelledCleanupSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    test("an attempt cancelled before a node answered 'taken' sends that node no release") {
        nodes.redsync().use { redsync ->
            // Once a script has run on a node, a first attempt there is a plain SET NX (see LettuceNode.acquire),
            // so from then on every script a node runs is a release.
            redsync.lock("warm-up").close()
            // Nodes 0 and 1 are free; node 2 holds another owner's key and is paused, so its answer comes late.
            nodes.node(2).call("SET", "crowded", "another-owner", "PX", "60000")
            nodes.nodes().forEach { it.call("CONFIG", "RESETSTAT") }
            // Without fail-fast (the default) the attempt waits for node 2; its node timeout outlasts the pause.
            val options = LockOptions.builder().tries(1).expiry(Duration.ofSeconds(60)).nodeTimeout(Duration.ofSeconds(20)).build()
            nodes.node(2).pause()
            try {
                val call = redsync.lockAsync("crowded", options)
                awaitUntil("nodes 0 and 1 granted") { (0..1).all { nodes.node(it).commandCalls("set") == 1L } }
                call.cancel(false)
                // The cancelled attempt gives back what it took on nodes 0 and 1 at once.
                awaitUntil("nodes 0 and 1 released") { (0..1).all { nodes.node(it).call("EXISTS", "crowded") == 0L } }
            } finally {
                nodes.node(2).resume()
            }
            // Node 2 now answers "taken". A release sent because of that answer is written before the reply to
            // any command sent after the answer arrived: two looks in a row, each over the same connections, put
            // the second one after it.
            awaitUntil("node 2 answered the acquire") { nodes.node(2).commandCalls("set") == 1L }
            redsync.mutex("crowded").valid() shouldBe false
            redsync.mutex("crowded").valid() shouldBe false
            nodes.node(2).scriptCalls() shouldBe 0L
            nodes.node(2).call("GET", "crowded") shouldBe "another-owner"
        }
        nodes.nodesHolding("crowded") shouldBe listOf(2)
        (0..1).map { nodes.node(it).scriptCalls() }.filter { it != 1L }.shouldBeEmpty() // one release each
    }
})
