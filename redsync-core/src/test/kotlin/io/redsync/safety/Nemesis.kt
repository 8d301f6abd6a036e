package io.redsync.safety

import io.redsync.testkit.FaultProxy
import io.redsync.testkit.RedisNodes
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.atomic.AtomicInteger
import kotlin.random.Random

/** The faults the [Nemesis] injects. */
enum class Fault {
    /** kill -9 one node, restart it after the configured delay (no persistence: it comes back empty). */
    KILL_RESTART,

    /** SIGSTOP one node for longer than the lock expiry, then SIGCONT. */
    PAUSE_NODE,

    /** Close every connection to one node and refuse new ones for a while ([FaultProxy.cut]). */
    CUT,

    /** Hold every byte to and from one node for a while ([FaultProxy.blackhole]). */
    BLACKHOLE,

    /** Slow one node's link by 20-150 ms each way for a while ([FaultProxy.latency]). */
    LATENCY,

    /** PEXPIRE lock keys to 3 ms on a minority of nodes: their clocks jump forward. */
    SHORTEN_TTL,

    /** A client pauses inside a critical section past its validity (a GC pause; a SIGSTOP of a client JVM). */
    CLIENT_PAUSE,
}

/**
 * Injects random faults one after another, from a seed (printed by the caller, re-run with
 * `-Dredsync.nemesis.seed=...`): the same seed gives the same sequence of faults, nodes and durations,
 * though not the same interleaving with the clients.
 *
 * Faults stay within Redlock's documented assumptions, since the point is to check that the lock keeps its
 * promise where it makes one:
 * - one fault at a time, each healed before the next (a cut node may still look unreachable for a while:
 *   clients reconnect with backoff);
 * - a killed node restarts after [restartDelay]: at least the longest TTL without persistence, any delay
 *   with fsync-always persistence;
 * - SHORTEN_TTL only touches keys of a holder that will still hold a quorum with them gone: a holder on `c`
 *   nodes loses at most `c - quorum` keys, so that its missing nodes plus its shortened ones stay a minority.
 *   It reads what each node holds first, and only shortens a key still holding the value it read.
 */
class Nemesis(
    private val nodes: RedisNodes,
    private val proxies: List<FaultProxy>,
    private val lockKeys: List<String>,
    private val expiry: Duration,
    private val restartDelay: Duration,
    seed: Long,
    private val clientPause: ((Random) -> String)?,
) {
    private val random = Random(seed)
    private val quorum = nodes.size() / 2 + 1
    private val counts = ConcurrentHashMap<Fault, AtomicInteger>()

    /** What was done, one line per fault, for the report. */
    val log = ConcurrentLinkedQueue<String>()

    /** How many keys SHORTEN_TTL shortened (a SHORTEN_TTL may find nothing it may touch). */
    val keysShortened = AtomicInteger()

    fun injected(): Map<Fault, Int> = Fault.values().associateWith { counts[it]?.get() ?: 0 }

    /** Injects faults until [until] (a [System.nanoTime] value), then heals everything. */
    fun run(until: Long) {
        val kinds = Fault.values().filter { it != Fault.CLIENT_PAUSE || clientPause != null }
        try {
            while (System.nanoTime() - until < 0) {
                val fault = kinds[random.nextInt(kinds.size)]
                val what = inject(fault)
                counts.computeIfAbsent(fault) { AtomicInteger() }.incrementAndGet()
                log.add("${Section.ms(System.nanoTime())}: $fault $what")
                Thread.sleep(random.nextLong(50, 300)) // pacing between faults, not synchronisation
            }
        } finally {
            healAll()
        }
    }

    /** Resumes and restarts every node and heals every proxy. */
    fun healAll() {
        proxies.forEach { it.heal() }
        nodes.nodes().forEach {
            if (it.isPaused) it.resume()
            if (!it.isRunning) it.restart()
        }
    }

    private fun inject(fault: Fault): String {
        val index = random.nextInt(nodes.size())
        val node = nodes.node(index)
        val proxy = proxies[index]
        return when (fault) {
            Fault.KILL_RESTART -> {
                node.kill()
                Thread.sleep(restartDelay.toMillis())
                node.restart()
                "node $index, restarted after ${restartDelay.toMillis()} ms"
            }
            Fault.PAUSE_NODE -> {
                val ms = expiry.toMillis() * random.nextLong(12, 20) / 10
                node.pause()
                Thread.sleep(ms)
                node.resume()
                "node $index for $ms ms"
            }
            Fault.CUT -> hold(proxy.cut(), "node $index")
            Fault.BLACKHOLE -> hold(proxy.blackhole(), "node $index")
            Fault.LATENCY -> {
                val oneWay = random.nextLong(20, 150)
                hold(proxy.latency(Duration.ofMillis(oneWay)), "node $index, $oneWay ms each way")
            }
            Fault.SHORTEN_TTL -> shortenTtls()
            Fault.CLIENT_PAUSE -> clientPause!!(random)
        }
    }

    private fun hold(proxy: FaultProxy, what: String): String {
        val ms = random.nextLong(200, 1500)
        Thread.sleep(ms)
        proxy.heal()
        return "$what for $ms ms"
    }

    private fun shortenTtls(): String {
        val done = ArrayList<String>()
        for (key in lockKeys) {
            val values = nodes.nodes().map { n -> if (n.isRunning && !n.isPaused) n.call("GET", key) as String? else null }
            values.withIndex().filter { it.value != null }.groupBy({ it.value!! }, { it.index }).forEach { (value, holders) ->
                val budget = minOf(holders.size - quorum, quorum - 1)
                holders.shuffled(random).take(maxOf(budget, 0)).forEach { i ->
                    // Compare-and-PEXPIRE: a holder that released meanwhile must not lose someone else's key.
                    val shortened = nodes.node(i).call("EVAL", SHORTEN, "1", key, value, "3") as Long
                    if (shortened == 1L) {
                        keysShortened.incrementAndGet()
                        done.add("$key@$i (holder on ${holders.size})")
                    }
                }
            }
        }
        return if (done.isEmpty()) "nothing to shorten within the budget" else done.joinToString(", ")
    }

    private companion object {
        const val SHORTEN = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
    }
}
