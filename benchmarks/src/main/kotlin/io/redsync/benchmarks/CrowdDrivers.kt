@file:JvmName("CrowdDrivers")

package io.redsync.benchmarks

import io.redsync.Lease
import io.redsync.LockOptions
import io.redsync.LockTakenException
import io.redsync.Redsync
import io.redsync.RedsyncException
import io.redsync.coroutines.awaitLock
import io.redsync.coroutines.awaitRelease
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull

// Issue 18's crowd and burst workloads for redsync-coroutines, driven from the Java harness.

/**
 * [waiters] coroutines on Dispatchers.Default, waiter w on `names[w % names.size]`, each looping
 * `awaitLock()`, hold [holdMillis] (`delay`), `awaitRelease()`. Stop: the whole scope is cancelled (what a
 * service does on shutdown); a waiter holding the lock releases it in `NonCancellable`.
 */
internal class OursCrowd(
    private val redsync: Redsync,
    private val names: List<String>,
    private val waiters: Int,
    private val holdMillis: Long,
    private val options: LockOptions,
    private val rec: Handoff.Recorder,
) : Handoff.Crowd {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private val jobs = ArrayList<Job>(waiters)

    @Volatile
    private var stopped = false

    override fun start() {
        repeat(waiters) { w ->
            val name = w % names.size
            val mutex = redsync.mutex(names[name], options)
            jobs += scope.launch {
                while (!stopped) {
                    val lease: Lease = try {
                        mutex.awaitLock()
                    } catch (e: LockTakenException) {
                        rec.gaveUp()
                        continue
                    } catch (e: RedsyncException) {
                        rec.error(Burst.errorType(e))
                        continue
                    }
                    rec.acquired(name, w)
                    try {
                        if (!stopped) delay(holdMillis)
                    } finally {
                        rec.releasing(name, w)
                        withContext(NonCancellable) {
                            try {
                                lease.awaitRelease()
                            } catch (e: RedsyncException) {
                                rec.error("release: " + Burst.errorType(e))
                            }
                        }
                    }
                }
            }
        }
    }

    override fun stop(boundMillis: Long): String {
        stopped = true
        val t0 = System.nanoTime()
        scope.cancel()
        val cancelReturned = (System.nanoTime() - t0) / 1_000_000
        val all = runBlocking { withTimeoutOrNull(boundMillis) { jobs.joinAll(); true } ?: false }
        val ms = (System.nanoTime() - t0) / 1_000_000
        return if (all) "cancel() returned in $cancelReturned ms, all ended in $ms ms"
        else "cancel() returned in $cancelReturned ms, ${jobs.count { it.isActive }} still running after $ms ms"
    }
}

/**
 * [calls] coroutines launched at once on Dispatchers.Default, call i on `names[i % names.size]`: `awaitLock()`
 * with the instance's defaults; an acquired lock is held [holdMillis] and released. Each call's outcome goes to
 * [out]. Returns the number of calls still running after [boundMillis] (then cancelled).
 */
internal fun burstOurs(redsync: Redsync, names: List<String>, calls: Int, holdMillis: Long, out: Burst.Outcomes, boundMillis: Long): Int =
    runBlocking {
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        val jobs = List(calls) { i ->
            scope.launch {
                val lease = try {
                    redsync.mutex(names[i % names.size]).awaitLock()
                } catch (e: LockTakenException) {
                    out.taken()
                    return@launch
                } catch (e: CancellationException) {
                    throw e
                } catch (e: Exception) {
                    out.error(Burst.errorType(e))
                    return@launch
                }
                out.acquired()
                try {
                    delay(holdMillis)
                } finally {
                    withContext(NonCancellable) {
                        try {
                            lease.awaitRelease()
                        } catch (e: Exception) {
                            out.error("release: " + Burst.errorType(e))
                        }
                    }
                }
            }
        }
        val finished = withTimeoutOrNull(boundMillis) { jobs.joinAll(); true } ?: false
        val running = if (finished) 0 else jobs.count { it.isActive }
        if (!finished) {
            scope.cancel()
            withTimeoutOrNull(10_000) { jobs.joinAll() }
        }
        running
    }
