package io.redsync.safety

import io.redsync.internal.Fences
import io.redsync.testkit.FaultProxy
import io.redsync.testkit.Persistence
import io.redsync.testkit.RedisNodes
import java.time.Duration
import java.util.concurrent.TimeUnit

/** What one run measured. */
data class Outcome(
    val seed: Long,
    val report: Report,
    val faults: Map<Fault, Int>,
    val keysShortened: Int,
    val clientPauses: Int,
    val failedLocks: Int,
    /** Lock keys left on the nodes after every client released and every fault healed (fencing counters excluded). */
    val leakedKeys: List<String>,
    val nemesisLog: List<String>,
) {
    fun describe(label: String): String = buildString {
        append("== $label (seed $seed; re-run with -Dredsync.nemesis.seed=$seed)\n")
        append("acquisitions checked: ${report.sections}, failed lock calls: $failedLocks\n")
        append("faults injected: ${faults.entries.joinToString { "${it.key}=${it.value}" }}; keys shortened: $keysShortened; client pauses taken: $clientPauses\n")
        append("leaked keys: ${leakedKeys.size}${if (leakedKeys.isEmpty()) "" else " $leakedKeys"}\n")
        append(report.describe())
    }
}

/**
 * One safety run: 5 nodes behind [FaultProxy]s, clients in this JVM ([threads]) and in [childJvms] child JVMs
 * contending on 3 lock names for [seconds], a [Nemesis] injecting faults until a quiet period before the end,
 * then the merged history checked and the nodes searched for leaked keys.
 */
class SafetyRun(
    private val persistence: Persistence,
    private val restartDelay: Duration,
    private val seconds: Long,
    val seed: Long,
    private val threads: Int,
    private val childJvms: Int = 0,
    private val childThreads: Int = 4,
) {
    private val names = listOf("safety:a", "safety:b", "safety:c")

    fun run(): Outcome = RedisNodes.builder().count(5).persistence(persistence).start().use { nodes ->
        val proxies = nodes.nodes().map { FaultProxy.to(it) }
        val uris = proxies.map { it.uri() }
        val expiry = SafetyOptions.lock.expiry()
        val start = System.nanoTime()
        val stopAt = start + TimeUnit.SECONDS.toNanos(seconds)
        // Faults stop early enough for keys written during the last one to expire and every client to end on a
        // healthy cluster: what is left on the nodes then has leaked.
        val quiet = restartDelay.toNanos() + expiry.toNanos() * 2
        val workload = Workload(names)
        val redsyncs = (0 until (threads + 1) / 2).map { SafetyOptions.redsync(uris) }
        try {
            ChildClients(childJvms, uris, names, childThreads, stopAt, seed * 7919).use { children ->
                val workers = (0 until threads).map { t ->
                    Thread { workload.client("local-c$t", redsyncs[t / 2], seed * 31 + t, stopAt) }.apply { isDaemon = true; start() }
                }
                val nemesis = Nemesis(nodes, proxies, names, expiry, restartDelay, seed) { random ->
                    if (childJvms > 0 && random.nextBoolean()) {
                        val child = random.nextInt(childJvms)
                        val ms = expiry.toMillis() * 3 / 2
                        children.pause(child, ms)
                        "SIGSTOP child JVM $child for $ms ms"
                    } else {
                        workload.requestPause()
                        "a client in this JVM pauses in its next section"
                    }
                }
                nemesis.run(until = stopAt - quiet)
                workers.forEach { it.join(TimeUnit.NANOSECONDS.toMillis(stopAt - System.nanoTime()) + 30_000) }
                check(workers.none { it.isAlive }) { "clients did not stop" }
                val history = workload.sections + children.await(TimeUnit.NANOSECONDS.toMillis(stopAt - System.nanoTime()) + 60_000)
                val counters = names.map { Fences.counterKey(it) }.toSet()
                val leaked = nodes.nodes().flatMapIndexed { i, n -> n.keys().filter { it !in counters }.map { "$it@$i" } }
                Outcome(seed, HistoryChecker().check(history), nemesis.injected(), nemesis.keysShortened.get(), workload.pausesTaken.get(),
                    workload.failedLocks.get(), leaked, nemesis.log.toList())
            }
        } finally {
            redsyncs.forEach { it.close() }
            proxies.forEach { it.close() }
        }
    }
}
