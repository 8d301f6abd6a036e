package io.redsync

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * A failed attempt's cleanup release on a node that timed out, and the next attempt's acquire there, with
 * the script cache emptied under a live connection (a node restarted and Lettuce reconnected without the
 * connect-time preload, or SCRIPT FLUSH). Found by the soak: the release's EVALSHA met NOSCRIPT, its EVAL
 * fallback went out when that reply arrived, after the next attempt's acquire, which had refreshed the key
 * holding our token and counted it as granted; the late EVAL deleted it, and the caller got a lease whose
 * key was gone on that node (fewer than a quorum could hold it). The next acquire now waits until the
 * release has run there.
 */
class ScriptCacheSpec : FunSpec({
    val nodes = nodesPerSpec(3) {}

    test("a late NOSCRIPT fallback of a cleanup release does not delete the next attempt's key") {
        nodes.flushAll()
        val script = Class.forName("io.redsync.lettuce.Script")
        fun field(owner: Any?, type: Class<*>, name: String): Any? = type.getDeclaredField(name).apply { isAccessible = true }.get(owner)
        val acquire = field(null, script, "ACQUIRE")!!
        val acquireBody = field(acquire, acquire.javaClass, "body") as String
        val shas = (field(null, script, "ALL") as Array<*>).map { field(it, script, "sha") as String }
        nodes.node(1).call("SET", "x", "foreign", "PX", "20000") // node 1 is held by someone else
        val options = LockOptions.builder().retryDelay(RetryDelay.constant(ms(20))).tries(Int.MAX_VALUE)
            .acquireTimeout(Duration.ofSeconds(15)).releaseNotifications(false).build()
        Redsync.builder().uris(nodes.uris()).defaults(options).build().use { redsync ->
            // By the scripts themselves, not by INFO commandstats: Redis 6.2 counts every SCRIPT subcommand as
            // cmdstat_script, 7.0 and later as cmdstat_script|load.
            awaitUntil("connected, scripts preloaded") {
                nodes.nodes().all { node -> (node.call("SCRIPT", "EXISTS", *shas.toTypedArray()) as List<*>).all { it == 1L } }
            }
            // As after a restart under a surviving connection: no scripts; then the acquire script cached
            // first (a retry ran it) and the release script not yet.
            nodes.nodes().forEach { it.call("SCRIPT", "FLUSH") }
            nodes.nodes().forEach { it.call("SCRIPT", "LOAD", acquireBody) }
            nodes.node(0).pause() // node 0 now times out: attempts fail (node 1 foreign, node 2 alone)
            val pending = redsync.lockAsync("x")
            // On node 2: attempt 1 is a SET NX; then EVALSHA release (1), acquire 2 (2), release (3), acquire 3
            // (4). At 4, attempt 3 is in flight and waits on node 0 for attempt 2's cleanup to be sent there.
            awaitUntil("attempt 3 in flight") {
                (nodes.node(2).call("INFO", "commandstats") as String).contains("cmdstat_evalsha:calls=4,")
            }
            nodes.node(0).resume() // node 0 runs: SET NX (1st attempt), EVALSHA release -> NOSCRIPT, EVALSHA acquire (refresh), EVAL release
            val lease = pending.get(10, TimeUnit.SECONDS)
            val keys = nodes.nodes().map { it.call("GET", "x") }
            lease.isValid shouldBe true
            keys[0] shouldBe lease.value() // was null: the late EVAL release had deleted it
            lease.close()
        }
    }
})
