package io.redsync.coroutines

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldNotContain
import io.redsync.testkit.fixtures.awaitUntil
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlin.time.Duration.Companion.seconds

/**
 * Cancelling a scope full of waiting lock calls returns at once: the release work of every call's attempt in
 * flight happens in the background (issue 18: `scope.cancel()` blocked its caller for 0.6-2.9 s while it sent
 * the releases of thousands of calls itself).
 */
class ScopeCancelSpec : FunSpec({
    val cluster = clusterPerSpec()
    val nodes = cluster.nodes

    test("cancelling a scope of waiting lock() calls sends none of their releases from the cancelling thread") {
        val (redsync, counting) = cluster.counting(lockOptions {
            expiry = 60.seconds
            nodeTimeout = 20.seconds // attempts wait for the paused node, so each is in flight when cancelled
        })
        redsync.use {
            redsync.mutex("warm-up").awaitLock().release() // every node connected before node 2 pauses
            counting.forEach { it.releaseThreads.clear() }
            val calls = 300
            val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
            nodes.node(2).pause()
            try {
                // Each on its own name: nodes 0 and 1 grant every call, node 2 answers none.
                repeat(calls) { i -> scope.launch { redsync.mutex("crowd-$i").awaitLock() } }
                awaitUntil("every call's attempt granted on nodes 0 and 1") {
                    counting[0].acquires.get() == calls + 1 && counting[1].acquires.get() == calls + 1
                }
                val releasesBefore = counting.map { it.releases.get() }
                val canceller = Thread.currentThread()
                scope.cancel()
                // The releases of what each attempt took on nodes 0 and 1 go out in the background.
                awaitUntil("every call released nodes 0 and 1") {
                    (0..1).all { counting[it].releases.get() - releasesBefore[it] == calls }
                }
                counting[0].releaseThreads shouldNotContain canceller
                counting[1].releaseThreads shouldNotContain canceller
                awaitUntil("nodes 0 and 1 hold none of the cancelled calls' keys") {
                    (0..1).all { cluster.redis(it).keys("crowd-*").toList().isEmpty() }
                }
            } finally {
                nodes.node(2).resume()
            }
        }
    }
})
