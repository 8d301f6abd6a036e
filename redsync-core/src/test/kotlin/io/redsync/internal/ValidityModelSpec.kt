package io.redsync.internal

import io.kotest.core.spec.style.FunSpec
import org.jetbrains.lincheck.Lincheck
import kotlin.concurrent.thread
import kotlin.time.Duration.Companion.minutes

/**
 * Model checking (Lincheck) of a lease's local state machine, [Validity], driven as [LeaseImpl] drives it:
 * extensions numbered and sent under its lock, answered later in whatever order the threads reach it, loss on
 * a refusal, release. The nodes are in-memory stand-ins that apply each extension when it is sent (as a real
 * node applies commands in the order they arrive) and whose replies are processed whenever the extending
 * thread gets to them, so the checker explores every order of replies, loss and release.
 *
 * Time stands still at 0: a node's key expires at its TTL, and the lease's deadline for a TTL is TTL − drift.
 * The invariants: a lease that reports itself valid never ends later than what a quorum of the nodes was last
 * told; a lost or released lease reports no validity.
 * The real-node specs of the same paths are in `LeaseSafetySpec` and `KeepAliveSpec`.
 */
class ValidityModelSpec : FunSpec({
    tags(ModelChecking)

    // Minutes, not seconds: a warm-up may take Lincheck's 30 s timeout twice, and the machine is shared.
    test("concurrent extensions (keep-alive vs a shorter user extend, one applied but unanswered): never past the nodes").config(timeout = 10.minutes) {
        modelCheck {
            val model = Model()
            val keepAlive = thread { model.extend(8_000) }
            val user = thread { model.extend(1_000) }
            val timedOut = thread { model.extend(2_000, answered = false); model.checkInvariant() }
            keepAlive.join(); user.join(); timedOut.join()
            model.checkInvariant()
        }
    }

    test("extension vs another owner taking a majority vs release: a lost lease reports nothing left").config(timeout = 10.minutes) {
        modelCheck {
            val model = Model()
            val keepAlive = thread { model.extend(8_000); model.checkInvariant() }
            val user = thread { model.extend(1_000); model.checkInvariant() }
            val thief = thread { model.steal(); model.extend(8_000); model.checkInvariant() }
            val releaser = thread { model.checkInvariant(); model.release() }
            keepAlive.join(); user.join(); thief.join(); releaser.join()
            model.checkInvariant()
        }
    }
})

/** Interleavings explored per scenario: a few threads with a handful of shared steps each need few. */
private const val INVOCATIONS = 500

/**
 * Runs [block] under Lincheck's model checker. Lincheck instruments the classes a scenario touches when it first
 * runs it (dynamic agent attach); on the busy two-core machine that first invocation took about Lincheck's fixed
 * 30 s invocation timeout, and was reported as a hang about every other time, whichever scenario came first
 * (later invocations take milliseconds). So the same scenario runs once beforehand, its outcome ignored (at most
 * twice if that run itself hits the timeout); the judged run that follows explores [INVOCATIONS] interleavings,
 * and a real hang or failure there is reported.
 */
private fun modelCheck(block: () -> Unit) {
    for (warmUp in 1..2) {
        if (runCatching { Lincheck.runConcurrentTest(1, block) }.isSuccess) break
    }
    Lincheck.runConcurrentTest(INVOCATIONS, block)
}

/** Three in-memory nodes holding one lease's key, and the lease's [Validity]. */
private class Model {
    private val drift = 100L
    /** Per node: the TTL we last told it, i.e. when our key expires there unless taken. Guarded by itself. */
    private val expiry = longArrayOf(10_000, 10_000, 10_000)
    /** Per node: another owner took the key. Guarded by [expiry]. */
    private val taken = BooleanArray(3)
    private val quorum = 2
    val validity = Validity(10_000 - drift)

    /** What a node stand-in answered an extension: how many applied it, how many hold another owner's key. */
    private class Reply(val ticket: Long, val applied: Int, val others: Int)

    fun extend(ttl: Long, answered: Boolean = true) {
        val now = 0L
        if (!validity.isValid(now)) return // LeaseImpl: a released, lost or run-out lease is not extended
        val candidate = ttl - drift
        val reply = validity.issue(candidate) { ticket ->
            synchronized(expiry) {
                var applied = 0
                var others = 0
                for (node in expiry.indices) {
                    if (taken[node]) others++ else { expiry[node] = ttl; applied++ }
                }
                Reply(ticket, applied, others)
            }
        }
        // ... the reply is processed later, in whatever order the threads get here.
        val confirmed = answered && reply.applied >= quorum
        validity.settle(reply.ticket, confirmed, candidate)
        if (answered && reply.others >= quorum) {
            validity.lose(now) // LeaseImpl.markLost: a refusal
        }
    }

    /** Another owner takes nodes 0 and 1 (our keys deleted, theirs set). */
    fun steal() {
        synchronized(expiry) { taken[0] = true; taken[1] = true }
    }

    fun release() {
        validity.release()
    }

    /** Checks the invariants on a consistent snapshot (the nodes change only under [validity]'s lock or [expiry]'s). */
    fun checkInvariant() = synchronized(validity) { synchronized(expiry) { checkSnapshot() } }

    private fun checkSnapshot() {
        val now = 0L
        if (validity.isLost() || validity.isReleased()) {
            check(validity.remainingNanos(now) == 0L) { "a lost or released lease reports validity left" }
            check(!validity.isValid(now)) { "a lost or released lease reports itself valid" }
            return
        }
        if (!validity.isValid(now)) return
        val held = expiry.sortedDescending()
        val quorumTold = held[quorum - 1] // a quorum was last told to keep our key until then
        check(validity.validUntil() <= quorumTold) {
            "the lease reports validity until ${validity.validUntil()}, but the nodes were last told to keep its key only until $quorumTold"
        }
    }
}
