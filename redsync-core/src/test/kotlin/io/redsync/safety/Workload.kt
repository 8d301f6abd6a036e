package io.redsync.safety

import io.redsync.LockOptions
import io.redsync.Redsync
import io.redsync.RedsyncException
import io.redsync.RetryDelay
import java.time.Duration
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.atomic.AtomicInteger
import kotlin.random.Random

/** The lock options of every safety client: a short expiry so that faults outlast leases; fencing on. */
object SafetyOptions {
    const val EXPIRY_MS = 1000L

    val lock: LockOptions = LockOptions.builder()
        .expiry(Duration.ofMillis(EXPIRY_MS))
        .nodeTimeout(Duration.ofMillis(100))
        .fencing(true)
        .retryDelay(RetryDelay.uniform(Duration.ofMillis(5), Duration.ofMillis(30)))
        .tries(Int.MAX_VALUE)
        .acquireTimeout(Duration.ofSeconds(5))
        .build()

    /** A client connects to [uris] (proxies, usually) with no key prefix, so lock keys are the lock names. */
    fun redsync(uris: List<String>): Redsync = Redsync.builder().uris(uris).keyPrefix("").defaults(lock).build()
}

/**
 * Clients contending on a few lock names, recording every critical section. A client takes a random name and
 * one of three owner-token styles (the library's random tokens; a preset value shared by every call of every
 * client; a custom generator returning the same "host name" every time), keeps half of its leases alive in
 * the background, uses the lease 1 to 3 times (each use after a validity check) with a few ms of "work"
 * between uses, now and then extends it itself to a random TTL shorter or longer than the expiry (racing the
 * keep-alive when there is one), and releases. When asked through [requestPause] it pauses
 * inside its next section past the lease's validity, as a GC pause would, and must then notice that the
 * lease is no longer valid (or was kept alive) before using it again.
 */
class Workload(private val names: List<String>, private val options: LockOptions = SafetyOptions.lock) {
    /** Owner-token styles: random per call; one preset value shared by all calls; a generator that repeats itself. */
    private val tokenStyles = listOf(
        options,
        options.toBuilder().value("shared-owner").build(),
        options.toBuilder().valueGenerator { "host-a" }.build(),
    )
    val sections = ConcurrentLinkedQueue<Section>()
    val failedLocks = AtomicInteger()
    val pausesTaken = AtomicInteger()
    private val pauseRequests = AtomicInteger()

    /** Asks the next client that enters a section to pause in it for longer than the expiry. */
    fun requestPause() {
        pauseRequests.incrementAndGet()
    }

    /** Runs one client until [stopAt] (a [System.nanoTime] value) or until [keepRunning] says no. */
    fun client(id: String, redsync: Redsync, seed: Long, stopAt: Long, keepRunning: () -> Boolean = { true }) {
        val random = Random(seed)
        while (System.nanoTime() - stopAt < 0 && keepRunning()) {
            val name = names[random.nextInt(names.size)]
            val lease = try {
                redsync.lock(name, tokenStyles[random.nextInt(tokenStyles.size)])
            } catch (e: RedsyncException) {
                failedLocks.incrementAndGet() // nodes down or slow: no section, nothing to check
                continue
            }
            val recorder = SectionRecorder(id, lease)
            if (random.nextBoolean()) lease.keepAlive()
            for (step in 0..random.nextInt(3)) {
                if (pauseRequests.getAndUpdate { if (it > 0) it - 1 else 0 } > 0) {
                    pausesTaken.incrementAndGet()
                    Thread.sleep(options.expiry().toMillis() * 5 / 4) // the simulated GC pause itself, not a wait for a condition
                }
                if (!recorder.use()) break
                Thread.sleep(random.nextLong(0, 5)) // the guarded work
                if (random.nextInt(3) == 0) recorder.extend(Duration.ofMillis(random.nextLong(300, 1500)))
            }
            sections.add(recorder.release())
        }
    }
}
