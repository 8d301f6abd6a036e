package io.redsync.soak

import io.redsync.KeepAlive
import io.redsync.Lease
import io.redsync.LockOptions
import io.redsync.Redsync
import io.redsync.testkit.RedisNodes
import java.time.Duration
import java.util.ArrayDeque
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicLong
import java.util.concurrent.atomic.LongAdder
import java.util.concurrent.locks.LockSupport

/**
 * A resource soak: [cycles] lock/unlock cycles on [threads] platform threads over two [Redsync] instances (two
 * "processes" sharing the nodes), in a mix meant to look like real use. Cycle `c` does, by `c % 100`:
 *
 * | share | what                                                                           |
 * |------:|--------------------------------------------------------------------------------|
 * |  30 % | `lock()` + release by try-with-resources (`use`), a fresh name per cycle        |
 * |  20 % | `lockAsync()` then `releaseAsync()`, up to 8 in flight per thread, fresh names  |
 * |  15 % | `tryLock()` on one of 4 hot names: acquired, or taken by someone else           |
 * |   5 % | `tryLockAsync()` on a hot name, likewise                                        |
 * |  10 % | blocking `lock()` on a hot name: waits (release notifications) until it gets it |
 * |  10 % | `Mutex.lock()`, `extend()`, `extend(ttl)` or `extendAsync()`, `Mutex.extend()`, `Mutex.unlock()` |
 * |   9 % | `executeLocked` (arms and cancels the keep-alive of every such lease)           |
 * |   1 % | `lock()` + `keepAlive()` with a 20 ms interval, held until the keeper extended it |
 *
 * The first tenth of the cycles is a warm-up (its failures are reported apart: cold start may outlast a node
 * timeout), after which everything stops and a quiet [Snapshot] is taken;
 * then the rest runs with a live snapshot every further tenth, and a quiet one at the end; after
 * [Redsync.close] one more. Every cycle ends in exactly one counted outcome; anything not an expected outcome
 * is a failure, counted by operation and exception type.
 */
class Soak(private val nodes: RedisNodes, private val cycles: Long, private val threads: Int = 16, private val log: (String) -> Unit) {
    companion object {
        /** See [options]. */
        val NODE_TIMEOUT: Duration = Duration.ofSeconds(2)
    }

    init {
        require(cycles >= 1000) { "a soak needs at least 1000 cycles (10 checkpoints of 100), was $cycles" }
    }

    /** Everything a run measured and counted. */
    class Report(
        /** Before any Redsync instance existed (the driver threads already run). */
        val before: Snapshot,
        /** After the warm-up tenth, all work finished. */
        val warmedUp: Snapshot,
        /** Taken while the work ran, every tenth of the cycles. */
        val live: List<Snapshot>,
        /** After the last cycle, all work finished, instances still open. */
        val end: Snapshot,
        /** After both instances were closed (see [Soak.awaitClosed]). */
        val closed: Snapshot,
        /** Highest live thread count after the warm-up. */
        val peakThreads: Int,
        val outcomes: Map<String, Long>,
        /**
         * Failures in the warm-up: cold start (connecting, class loading, JIT on a shared machine) can outlast
         * the default 400 ms node timeout. Reported, not held against the steady state.
         */
        val warmupFailures: Map<String, Long>,
        /** Failures after the warm-up. */
        val failures: Map<String, Long>,
        val failureSamples: List<String>,
        val seconds: Double,
    ) {
        val completed: Long get() = outcomes.values.sum() + warmupFailures.values.sum() + failures.values.sum()
    }

    private val outcomes = ConcurrentHashMap<String, LongAdder>()
    private val failures = ConcurrentHashMap<String, LongAdder>()
    private val failureSamples = ConcurrentLinkedQueue<String>()
    private val done = AtomicLong()
    private val t0 = System.nanoTime()

    private fun count(outcome: String) {
        outcomes.computeIfAbsent(outcome) { LongAdder() }.increment()
        done.incrementAndGet()
    }

    private fun fail(operation: String, error: Throwable) {
        val cause = if (error is java.util.concurrent.CompletionException && error.cause != null) error.cause!! else error
        failures.computeIfAbsent("$operation: ${cause.javaClass.simpleName}") { LongAdder() }.increment()
        if (failureSamples.size < 10) failureSamples.add("at ${(System.nanoTime() - t0) / 1_000_000} ms, ${done.get()} cycles done, $operation: ${cause.stackTraceToString().lines().take(12).joinToString("\n")}")
        done.incrementAndGet()
    }

    /**
     * Default options but a 2 s node timeout. The soak checks resources, not latency: on the shared 2-core
     * machine it was written on (load average above 15 from other work), the default 400 ms (8 s × 0.05) was
     * now and then exceeded by a starved JVM or redis-server, failing calls for reasons that say nothing about
     * leaks.
     */
    private fun options(): LockOptions.Builder = LockOptions.builder().nodeTimeout(NODE_TIMEOUT)

    private val defaults = options().build()

    // Waiting on a hot name: no try limit, a deadline instead, so only a real stall fails it.
    private val waitOptions = options().tries(Int.MAX_VALUE).acquireTimeout(Duration.ofSeconds(30)).build()

    // Frequent extension, so the keeper extends within a few timer ticks; the default 8 s expiry.
    private val keptOptions = options().keepAlive(KeepAlive.builder().interval(Duration.ofMillis(20)).build()).build()

    private fun hot(c: Long) = "soak:hot:${c % 4}"
    private fun fresh(c: Long) = "soak:d:$c"

    /**
     * Runs the soak. [closeTimeout] bounds the wait for connections and Lettuce threads to go after close;
     * [workerIdle] is how long to wait for the shared redsync-worker threads to time out (zero: do not wait).
     */
    fun run(closeTimeout: Duration = Duration.ofSeconds(15), workerIdle: Duration = Duration.ZERO): Report {
        val pool = Executors.newFixedThreadPool(threads) { r -> Thread(r, "soak-driver").apply { isDaemon = true } }
        (pool as java.util.concurrent.ThreadPoolExecutor).prestartAllCoreThreads()
        try {
            val start = System.nanoTime()
            val before = Snapshot.take("before", nodes, 0, start, null).also { log(it.toString()) }
            val instances = List(2) { Redsync.builder().uris(nodes.uris()).defaults(defaults).build() }
            val warmupEnd = cycles / 10
            val warmedUp: Snapshot
            val warmupFailures: Map<String, Long>
            val live = mutableListOf<Snapshot>()
            val end: Snapshot
            val peak: Int
            try {
                phase(pool, instances, 0, warmupEnd) { }
                warmedUp = Snapshot.take("warmed-up", nodes, done.get(), start, before).also { log(it.toString()) }
                warmupFailures = failures.mapValues { it.value.sum() }.toSortedMap()
                failures.clear()
                failureSamples.forEach { log("warm-up failure sample: $it") }
                failureSamples.clear()
                Probes.resetPeakThreads()
                phase(pool, instances, warmupEnd, cycles) {
                    var previous = warmedUp
                    for (tenth in 2..9) {
                        val mark = cycles * tenth / 10
                        if (!awaitProgress(mark)) break
                        previous = Snapshot.take("${tenth * 10}%", nodes, done.get(), start, previous)
                        live += previous
                        log(previous.toString())
                    }
                }
                end = Snapshot.take("end", nodes, done.get(), start, live.lastOrNull() ?: warmedUp).also { log(it.toString()) }
                peak = Probes.peakThreads()
            } finally {
                instances.forEach { it.close() }
            }
            val seconds = (System.nanoTime() - start) / 1e9
            awaitClosed(before, closeTimeout, workerIdle)
            val closed = Snapshot.take("closed", nodes, done.get(), start, null).also { log(it.toString()) }
            return Report(
                before, warmedUp, live, end, closed, peak,
                outcomes.mapValues { it.value.sum() }.toSortedMap(), warmupFailures, failures.mapValues { it.value.sum() }.toSortedMap(),
                failureSamples.toList(), seconds,
            )
        } finally {
            pool.shutdownNow()
        }
    }

    /** Counts down as each driver thread finishes the current phase. */
    @Volatile
    private var running = CountDownLatch(0)

    /** Polls (never a fixed sleep) until [mark] cycles are done; false if the phase's work ended first. */
    private fun awaitProgress(mark: Long): Boolean {
        while (done.get() < mark) {
            if (running.count == 0L) return false
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20))
        }
        return true
    }

    /** Runs cycles [from, to) on all driver threads; [monitor] runs on the calling thread meanwhile. */
    private fun phase(pool: ExecutorService, instances: List<Redsync>, from: Long, to: Long, monitor: () -> Unit) {
        val next = AtomicLong(from)
        val finished = CountDownLatch(threads)
        running = finished
        repeat(threads) { t ->
            pool.execute {
                val pending = ArrayDeque<CompletableFuture<*>>()
                try {
                    while (true) {
                        val c = next.getAndIncrement()
                        if (c >= to) break
                        cycle(instances[t % instances.size], c, pending)
                    }
                    while (pending.isNotEmpty()) pending.poll().handle { _, _ -> null }.join()
                } finally {
                    finished.countDown()
                }
            }
        }
        monitor()
        finished.await()
        // Outcomes are counted as each cycle ends: all of them, since every thread drained its futures.
        check(done.get() == to) { "phase [$from, $to) ended with ${done.get()} cycles counted" }
    }

    private fun cycle(redsync: Redsync, c: Long, pending: ArrayDeque<CompletableFuture<*>>) {
        when ((c % 100).toInt()) {
            in 0..29 -> attempt("lock+close") {
                redsync.lock(fresh(c)).use { it.checkValid() }
                "lock + close (try-with-resources)"
            }
            in 30..49 -> async("lockAsync", pending) {
                redsync.lockAsync(fresh(c)).thenCompose { it.releaseAsync() }.thenApply { "lockAsync + releaseAsync" }
            }
            in 50..64 -> attempt("tryLock") {
                val lease = redsync.mutex(hot(c)).tryLock()
                if (lease.isPresent) {
                    lease.get().use { it.checkValid() }
                    "tryLock hot: acquired"
                } else {
                    "tryLock hot: taken (contention)"
                }
            }
            in 65..69 -> async("tryLockAsync", pending) {
                redsync.mutex(hot(c)).tryLockAsync().thenCompose { lease ->
                    if (lease.isPresent) lease.get().releaseAsync().thenApply { "tryLockAsync hot: acquired" }
                    else CompletableFuture.completedFuture("tryLockAsync hot: taken (contention)")
                }
            }
            in 70..79 -> attempt("lock hot") {
                redsync.lock(hot(c), waitOptions).use { it.checkValid() }
                "lock hot (waited when held)"
            }
            in 80..89 -> attempt("extend") {
                val mutex = redsync.mutex(fresh(c))
                val lease = mutex.lock()
                try {
                    when (c % 3) {
                        0L -> lease.extend()
                        1L -> lease.extend(Duration.ofSeconds(4))
                        else -> lease.extendAsync().join()
                    }
                    mutex.extend()
                    lease.checkValid()
                } finally {
                    mutex.unlock()
                }
                "lock + extend + Mutex.unlock"
            }
            in 90..98 -> attempt("executeLocked") {
                redsync.executeLocked<Unit, RuntimeException>(fresh(c)) { lease -> lease.checkValid() }
                "executeLocked"
            }
            else -> attempt("keepAlive") {
                redsync.lock(fresh(c), keptOptions).use { lease ->
                    lease.keepAlive()
                    awaitExtension(lease)
                    check(!lease.isLost) { "kept lease ${lease.name()} declared lost" }
                }
                "lock + keepAlive (extended in background)"
            }
        }
    }

    /** Starts an asynchronous cycle; its outcome is counted when it completes. At most 8 in flight per thread. */
    private inline fun async(operation: String, pending: ArrayDeque<CompletableFuture<*>>, start: () -> CompletableFuture<String>) {
        val f = try {
            start()
        } catch (e: Throwable) {
            fail(operation, e)
            return
        }
        pending.add(f.whenComplete { outcome, e -> if (e == null) count(outcome) else fail(operation, e) })
        if (pending.size >= 8) pending.poll().handle { _, _ -> null }.join()
    }

    private inline fun attempt(operation: String, body: () -> String) {
        val outcome = try {
            body()
        } catch (e: Throwable) {
            fail(operation, e)
            return
        }
        count(outcome)
    }

    /**
     * Waits for the keeper's first extension, seen as the lease's deadline (now + validity left, on the
     * monotonic clock) moving later. Comparing the validity left alone would not do: an extension renews
     * from the moment it was sent, so by the time it is seen it may show less left than the acquisition did.
     * The interval is 20 ms, so the deadline moves by at least that; 1 ms of slack absorbs the clock reads.
     * Polls every millisecond, gives up after 5 s.
     */
    private fun awaitExtension(lease: Lease) {
        fun deadline() = System.nanoTime() + lease.remaining().toNanos()
        val first = deadline()
        val giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(5)
        while (deadline() - first <= TimeUnit.MILLISECONDS.toNanos(1)) {
            check(System.nanoTime() < giveUp) {
                "keep-alive made no extension of ${lease.name()} within 5 s (lost: ${lease.isLost}, validity left ${lease.remaining()})"
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1))
        }
    }

    /**
     * After close: polls until every node is back to its client count from [before] and the Lettuce threads
     * are back to their number then (the event loops are shared, reference-counted, shut down by the last
     * instance to close); with a [workerIdle] wait, also until the redsync-worker pool has timed out.
     */
    private fun awaitClosed(before: Snapshot, timeout: Duration, workerIdle: Duration) {
        pollUntil(timeout) {
            Probes.clientsByNode(nodes) == before.clients &&
                (Probes.libraryThreads()["lettuce"]?.count ?: 0) <= before.familyCount("lettuce")
        }
        if (!workerIdle.isZero) {
            pollUntil(workerIdle) { (Probes.libraryThreads()["redsync-worker"]?.count ?: 0) == 0 }
        }
    }

    /** Polls [condition] every 50 ms until it holds or [timeout] passes; the caller then checks the outcome. */
    private fun pollUntil(timeout: Duration, condition: () -> Boolean) {
        val giveUp = System.nanoTime() + timeout.toNanos()
        while (!condition() && System.nanoTime() < giveUp) LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50))
    }
}
