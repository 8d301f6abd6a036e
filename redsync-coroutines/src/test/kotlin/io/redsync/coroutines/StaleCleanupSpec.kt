package io.redsync.coroutines

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.redsync.RetryDelay
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.ms
import kotlin.time.Duration.Companion.seconds

/**
 * A safety hole in redsync-core's acquisition retry, found by the 10,000-call burst of ConcurrencySpec:
 * the cleanup release of a failed attempt is sent to a node that timed out only once that node's late
 * acquire reply arrives (Attempt.cleanUp), by which time the retry, using the same owner token, may already
 * hold the key there. The stale compare-and-delete then removes the new lease's key: the lease is valid
 * locally while a majority of its keys are gone, and another client can acquire the lock.
 *
 * Fixed in core: a retry's acquire to a node now waits until the previous attempt's release to that node was
 * sent. This spec keeps the interleaving covered from the coroutines side.
 */
class StaleCleanupSpec : FunSpec({
    val cluster = clusterPerSpec(heal = false)
    val nodes = cluster.nodes

    test("a late cleanup of a failed attempt does not delete the keys of the retry that succeeded") {
        // expiry 1 s: node timeout 50 ms. Nodes 0 and 2 answer the FIRST acquire after 150 ms (the command runs on
        // the server at once): attempt 1 fails with node 1 alone; attempt 2, same token, succeeds on all three.
        val (redsync, counting) = cluster.counting(lockOptions {
            expiry = 1.seconds
            retryDelay = RetryDelay.constant(ms(1))
            keepAlive = false
        })
        listOf(0, 2).forEach {
            counting[it].acquireReplyDelayMs = 150
            counting[it].delayedAcquires.set(1)
        }
        redsync.use {
            val lease = redsync.mutex("stale").awaitLock()
            cluster.valuesOf("stale") shouldContainExactly List(3) { lease.value() }
            awaitUntil("attempt 1's deferred cleanup was answered by nodes 0 and 2") {
                counting[0].releasesAnswered.get() >= 1 && counting[2].releasesAnswered.get() >= 1
            }
            // Failed before the fix with [null, value, null] while lease.remaining() was still ~870 ms.
            cluster.valuesOf("stale") shouldContainExactly List(3) { lease.value() }
        }
    }
})
