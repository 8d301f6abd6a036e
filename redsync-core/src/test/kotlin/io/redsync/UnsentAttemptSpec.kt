package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.nodesPerSpec
import java.time.Duration
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit

/**
 * An attempt whose acquire was never sent wrote nothing, so it releases nothing. A retry reaches a node only after
 * the previous attempt's cleanup ran there; when that takes longer than the retry's node timeout, the retry is
 * decided without having been sent. It used to send a release once the gate opened, and the next retry waited for
 * that release: under a 10,000-call burst every waiting call kept one useless release in flight, each slower than
 * the node timeout, and the node served nothing else for seconds (issue 18).
 */
class UnsentAttemptSpec : FunSpec({
    val nodes = nodesPerSpec(1)

    test("retries held back behind a slow cleanup and never sent send no release") {
        nodes.redsync().use { redsync ->
            // Once a script has run on the node, a first attempt there is a plain SET NX (see LettuceNode.acquire),
            // and every later attempt of a call is a script: with the retries never sent, any script is a release.
            redsync.lock("warm-up").close()
            nodes.node(0).call("SET", "crowded", "another-owner", "PX", "60000")
            nodes.node(0).call("CONFIG", "RESETSTAT")
            val options = LockOptions.builder().tries(3).retryDelay(RetryDelay.constant(Duration.ofMillis(20)))
                .expiry(Duration.ofSeconds(60)).nodeTimeout(Duration.ofMillis(200)).releaseNotifications(false).build()
            nodes.node(0).pause()
            try {
                // Attempt 1's SET waits in the paused node and times out; its cleanup waits for the late reply.
                // Attempts 2 and 3 each wait for the one before to be cleaned up, and time out unsent.
                val e = shouldThrow<ExecutionException> { redsync.lockAsync("crowded", options).get(30, TimeUnit.SECONDS) }
                (e.cause is LockAcquisitionException) shouldBe true
                (e.cause as LockAcquisitionException).attempts() shouldBe 3
            } finally {
                nodes.node(0).resume()
            }
            // The node answers "taken" (SET, then PTTL): attempt 1 wrote nothing either. Whatever the cleanups
            // send goes out on the same connection, each step inline with the reply to the one before (the PTTL's,
            // then a release's); one look per step after the PTTL ran puts the last look after all of it.
            awaitUntil("the node answered attempt 1") { nodes.node(0).commandCalls("pttl") == 1L }
            repeat(3) { redsync.mutex("crowded").valid() shouldBe false }
            nodes.node(0).commandCalls("set") shouldBe 1L
            nodes.node(0).scriptCalls() shouldBe 0L
            nodes.node(0).call("GET", "crowded") shouldBe "another-owner"
        }
    }
})
