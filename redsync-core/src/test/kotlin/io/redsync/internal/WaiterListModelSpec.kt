package io.redsync.internal

import io.kotest.core.spec.style.FunSpec
import io.redsync.spi.AcquireReply
import io.redsync.spi.LockNode
import io.redsync.spi.Ownership
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions
import org.jetbrains.lincheck.datastructures.Operation
import org.jetbrains.lincheck.datastructures.Validate
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CompletionStage
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.function.Consumer
import java.util.function.Predicate
import kotlin.time.Duration.Companion.minutes

/**
 * Model checking (Lincheck) of the waiter list's wake-up hand-off (issue 13 item 7): [Waiters] and the
 * waiters' [Wakeup] holds, against an in-memory node stand-in that announces releases on any thread, while
 * waiters end (last try failed, budget used up, cancelled), use their wake-up, or wake themselves,
 * concurrently. Lincheck generates scenarios of these operations on three threads and explores their
 * interleavings under its own scheduler, so a release announced at the instant a waiter ends is covered,
 * not hoped for. The same path against real nodes: `WaitingSpec` ("a wake-up taken by a waiter on its last
 * try passes to the next waiter").
 *
 * The property ([WaiterListModel.noWakeupLost]): a release wake-up is never dropped while a waiter that could
 * use it still waits.
 */
class WaiterListModelSpec : FunSpec({
    tags(ModelChecking)
    // Instrumenting the classes takes most of a minute on a busy machine: a generous timeout, not a slow check.
    test("no release wake-up is lost, whatever the interleaving of releases, waiters ending, using and waking").config(timeout = 15.minutes) {
        ModelCheckingOptions()
            .iterations(10)
            .invocationsPerIteration(200)
            .threads(3)
            .actorsPerThread(2)
            .actorsBefore(1)
            .actorsAfter(1)
            .check(WaiterListModel::class.java)
    }
})

/** A node stand-in: subscriptions are active at once; [announce] delivers a release on the calling thread. */
class MemoryNode : LockNode {
    private val listeners = CopyOnWriteArrayList<Consumer<String>>()
    fun announce(announcement: String) = listeners.forEach { it.accept(announcement) }
    override fun subscribe(key: String, listener: Consumer<String>): CompletionStage<LockNode.Subscription> {
        listeners += listener
        return CompletableFuture.completedFuture(LockNode.Subscription { listeners -= listener })
    }
    override fun address() = "memory"
    override fun acquire(key: String, value: String, expiryMillis: Long, refreshIfHeld: Boolean, counterKey: String?):
        CompletionStage<AcquireReply> = throw UnsupportedOperationException()
    override fun fence(key: String, value: String, counterKey: String, token: Long): CompletionStage<Ownership> = throw UnsupportedOperationException()
    override fun release(key: String, value: String): CompletionStage<Ownership> = throw UnsupportedOperationException()
    override fun extend(key: String, value: String, expiryMillis: Long, setIfAbsent: Boolean): CompletionStage<Ownership> =
        throw UnsupportedOperationException()
    override fun get(key: String): CompletionStage<String> = throw UnsupportedOperationException()
    override fun close() {}
}

/** A waiting lock call as AcquireCall drives its [Wakeup]; ended = its result completed. */
internal class ModelWaiter(private val watches: Waiters, private val key: String, id: Int) {
    private val ended = AtomicBoolean()
    val wakeup = Wakeup { ended.get() }
    val used = AtomicInteger()
    private val entry: Waiters.Entry = watches.join(key, Listener(id, wakeup))

    /**
     * The listener, with a fixed hash: the waiter list keeps listeners in a hash set, and an identity hash
     * taken once before the checker's run and once inside it differs (Lincheck makes hashes deterministic
     * only inside), which it reports as non-determinism.
     */
    private class Listener(private val id: Int, private val wakeup: Wakeup) : Predicate<String> {
        override fun test(announcement: String) = wakeup.offer(announcement)
        override fun hashCode() = id
        override fun equals(other: Any?) = other === this
    }

    val waiting get() = !ended.get()

    /** Its last try failed, its budget ran out, or it was cancelled: the result completes, then the hand-off. */
    fun end() {
        if (ended.getAndSet(true)) return
        wakeup.end()?.let { watches.pass(key, it) }
        entry.leave()
    }

    /** An attempt starts because of the wake-up it holds, if it holds one. */
    fun useWakeup() {
        if (wakeup.pending()) {
            wakeup.use()
            used.incrementAndGet()
        }
    }
}

/** The state Lincheck drives: one node (quorum 1, so every release wakes at once), three waiters of one key. */
class WaiterListModel {
    private val node = MemoryNode()
    private val watches = Waiters(arrayOf(node), 1)
    private val waiters = List(3) { ModelWaiter(watches, "k", it) }
    private val releases = AtomicInteger()

    @Operation
    fun release() {
        node.announce("release-" + releases.incrementAndGet())
    }

    @Operation
    fun firstEnds() = waiters[0].end()

    @Operation
    fun secondEnds() = waiters[1].end()

    @Operation
    fun firstUsesItsWakeup() = waiters[0].useWakeup()

    @Operation
    fun secondWakesItself() = waiters[1].wakeup.self()

    /**
     * Each release is used by an attempt, held by a waiting waiter, or dropped only when no waiting waiter
     * could take it (each already holds one). So while releases outnumber the wake-ups used, a waiting waiter
     * holds one.
     */
    @Validate
    fun noWakeupLost() {
        val live = waiters.filter { it.waiting }
        val unused = releases.get() - waiters.sumOf { it.used.get() }
        check(!(unused > 0 && live.isNotEmpty() && live.none { it.wakeup.pending() })) {
            "a release wake-up was dropped while ${live.size} waiter(s) still wait"
        }
    }
}
