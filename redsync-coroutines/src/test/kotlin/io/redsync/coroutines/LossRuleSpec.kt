package io.redsync.coroutines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.redsync.LeaseLostException
import io.redsync.Redsync
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.nodesPerSpec
import kotlin.time.Duration.Companion.milliseconds

/**
 * Issue 13 item 6: `withLock` follows the rule Java's `executeLocked` follows. A loss declared before the
 * block returned fails the call, even when the block returned before the cancellation reached it.
 */
class LossRuleSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    test("a loss declared before the block returned fails the call, even if the block never suspended after it") {
        Redsync.builder().uris(nodes.uris()).defaults(lockOptions { expiry = 1500.milliseconds }).build().use { redsync ->
            val lost = shouldThrow<LeaseLostException> {
                redsync.withLock("late-loss") { lease ->
                    nodes.nodes().forEach { it.call("DEL", "late-loss") }
                    // No suspension point: the block returns before the cancellation can reach it.
                    while (!lease.isLost) Thread.onSpinWait()
                    "result of work done on a lost lease"
                }
            }
            // Before the fix the block's result was returned: Java's executeLocked threw, Kotlin did not.
            lost.reason() shouldBe LeaseLostException.Reason.REFUSED
        }
    }
})
