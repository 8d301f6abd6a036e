package io.redsync.ktor

import io.ktor.server.application.Application
import io.ktor.server.application.install
import io.ktor.server.config.MapApplicationConfig
import io.redsync.testkit.RedisNode
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.keysByNode
import io.ktor.client.statement.HttpResponse
import io.ktor.client.statement.bodyAsText
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.selects.select
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

// redsync-ktor's own fixtures; those of every module (nodesPerSpec, heal, awaitUntil, keysByNode, clientCount, the
// API dump) are in redsync-testkit's io.redsync.testkit.fixtures.

/**
 * How many nodes hold [key]. A granted lock is on at least a quorum; a node whose reply came after its
 * timeout (a loaded machine) or after a fail-fast decision may still get or lack it, so tests of "held"
 * ask for a quorum, not for every node.
 */
fun RedisNodes.holding(key: String): Int = nodes().count { it.keys().contains(key) }

/** The quorum of these nodes. */
val RedisNodes.quorum: Int get() = size() / 2 + 1

/**
 * Waits until no node holds any key. A release is decided at a quorum; the last node's delete may land
 * a moment later, so "nothing left" is awaited, with a deadline.
 */
suspend fun RedisNodes.awaitNoKeys() = awaitUntil("no keys left on any node") { keysByNode().all { it.isEmpty() } }

/** The number of connections subscribed to at least one channel or pattern. */
fun RedisNode.subscriberCount(): Int = (call("CLIENT", "LIST") as String).lines()
    .count { line -> Regex("""\b(sub|psub)=([1-9]\d*)""").containsMatchIn(line) }

/** Whether some client waits for a release announcement on any node (a waiter after its first failed attempt). */
fun RedisNodes.someoneWaits(): Boolean = nodes().any { it.subscriberCount() > 0 }

/** A config holding a `redsync` section with [values] (keys relative to the section) and these nodes. */
fun RedisNodes.config(vararg values: Pair<String, Any>): MapApplicationConfig = MapApplicationConfig().apply {
    if (values.none { it.first == "nodes" }) put("redsync.nodes", uris())
    values.forEach { (key, value) ->
        @Suppress("UNCHECKED_CAST")
        when (value) {
            is List<*> -> put("redsync.$key", value as List<String>)
            else -> put("redsync.$key", value.toString())
        }
    }
}

/**
 * Installs the plugin over these nodes, with [configure] applied after the nodes. The node timeout is
 * raised to [TEST_NODE_TIMEOUT]: each test builds a fresh instance, whose first command also connects (lazily,
 * within the node timeout), and a loaded CI machine can take longer than the derived 400 ms for that.
 */
fun Application.installRedsync(nodes: RedisNodes, configure: RedsyncPluginConfig.() -> Unit = {}) {
    install(Redsync) {
        this.nodes = nodes.uris()
        defaults { nodeTimeout = TEST_NODE_TIMEOUT }
        configure()
    }
}

/** See [installRedsync]. */
val TEST_NODE_TIMEOUT: Duration = 2.seconds

/**
 * Awaits [entered] (a handler signalling it runs), failing at once, with the call's answer, if the call
 * [first] finished without ever entering it (e.g. its lock could not be acquired), instead of hanging.
 */
suspend fun CompletableDeferred<Unit>.awaitEnteredBy(first: Deferred<HttpResponse>) {
    select {
        onAwait {}
        first.onAwait { response ->
            throw AssertionError("the call finished without entering its handler: ${response.status} ${response.bodyAsText()}")
        }
    }
}

/** What a handler records around its critical section, to check that sections never overlap. */
class Sections {
    private val inside = java.util.concurrent.atomic.AtomicInteger()
    private val log = java.util.concurrent.CopyOnWriteArrayList<String>()
    @Volatile
    var maxInside: Int = 0
        private set

    fun enter(who: String) {
        val now = inside.incrementAndGet()
        synchronized(this) { if (now > maxInside) maxInside = now }
        log += "enter $who"
    }

    fun exit(who: String) {
        log += "exit $who"
        inside.decrementAndGet()
    }

    /** The events in order, e.g. `[enter a, exit a, enter b, exit b]`. */
    val events: List<String> get() = log.toList()
}
