package io.redsync.safety

import io.redsync.Lease
import io.redsync.LeaseLostException
import io.redsync.RedsyncException
import java.io.File

/**
 * One critical section as its client saw it. Every time is a [System.nanoTime] reading of this machine:
 * on Linux that is CLOCK_MONOTONIC, shared by all JVMs, so histories written by several processes merge.
 *
 * - [acquiredAt]: when `lock()` RETURNED. Not when the successful attempt started: the client cannot act on
 *   the lock before it has the lease, and the library measures validity from the attempt's start, so the
 *   deadline already accounts for the time spent acquiring.
 * - [deadline]: the latest validity deadline the lease reported ([Lease.remaining] read at acquisition and
 *   after each use; keep-alive extensions move it forward).
 * - [releasedAt]: when the client started to unlock (after its last use); [Long.MAX_VALUE] if it never did.
 * - [token]: the fencing token, or -1 without fencing.
 * - [uses]: when the client started each use, each one after a validity check that passed.
 * - [lostAt]: the first time the lease was reported lost (keep-alive callback or `checkValid`), or null.
 *
 * A section is trusted from [acquiredAt] to `min(releasedAt, deadline)`.
 */
data class Section(
    val client: String,
    val name: String,
    val acquiredAt: Long,
    val deadline: Long,
    val releasedAt: Long,
    val token: Long,
    val uses: List<Long> = emptyList(),
    val lostAt: Long? = null,
) {
    val trustedUntil: Long get() = minOf(releasedAt, deadline)

    /** False for a lease whose validity ran out before `lock()` returned: nobody could trust it. */
    val trusted: Boolean get() = trustedUntil > acquiredAt

    /** One tab-separated line; [parse] reads it back. */
    fun toLine(): String = listOf(client, name, acquiredAt, deadline, releasedAt, token, lostAt ?: "-", uses.joinToString(",").ifEmpty { "-" })
        .joinToString("\t")

    override fun toString(): String = "Section($client on '$name', token $token, acquired ${ms(acquiredAt)}, deadline ${ms(deadline)}, " +
        "released ${if (releasedAt == Long.MAX_VALUE) "never" else ms(releasedAt)}, ${uses.size} uses${lostAt?.let { ", lost ${ms(it)}" } ?: ""})"

    companion object {
        /** Reads a line written by [toLine]. */
        fun parse(line: String): Section {
            val f = line.split('\t')
            require(f.size == 8) { "a history line has 8 tab-separated fields, this one has ${f.size}: '$line'" }
            return Section(f[0], f[1], f[2].toLong(), f[3].toLong(), f[4].toLong(), f[5].toLong(),
                if (f[7] == "-") emptyList() else f[7].split(',').map { it.toLong() }, f[6].takeUnless { it == "-" }?.toLong())
        }

        /** Monotonic nanos as milliseconds with a fraction, for readable reports. */
        fun ms(nanos: Long): String = "%.3f ms".format(nanos / 1e6)
    }
}

/** Writes and reads histories, one [Section] per line. */
object HistoryFile {
    fun write(file: File, sections: Collection<Section>) = file.writeText(sections.joinToString("") { it.toLine() + "\n" })
    fun read(file: File): List<Section> = file.readLines().filter { it.isNotBlank() }.map(Section::parse)
}

/**
 * Records one critical section while the client holds [lease]: call [use] before each step that relies on
 * the lock (it checks validity first and records the use only if the check passed), then [release].
 */
class SectionRecorder(private val client: String, private val lease: Lease) {
    private val acquiredAt = System.nanoTime()
    private var deadline = acquiredAt
    private val uses = ArrayList<Long>()
    @Volatile private var lostAt: Long? = null

    init {
        observe()
        lease.onLost { lostAt = lostAt ?: System.nanoTime() }
    }

    /** Reads the lease's deadline; the clock is read after [Lease.remaining], so the estimate never falls short. */
    private fun observe() {
        val remaining = lease.remaining().toNanos()
        val now = System.nanoTime()
        if (remaining > 0) deadline = maxOf(deadline, now + remaining)
    }

    /**
     * One use: the time is taken BEFORE the validity check, so a use the checker judges late was also late
     * when the library said it was still valid.
     *
     * @return false when the lease is no longer valid; the client must then stop using it
     */
    fun use(): Boolean {
        val at = System.nanoTime()
        try {
            lease.checkValid()
        } catch (e: LeaseLostException) {
            lostAt = lostAt ?: at
            return false
        } catch (e: RedsyncException) {
            return false // expired: noticed in time, nothing used
        }
        uses.add(at)
        observe()
        return true
    }

    /**
     * The client extends the lease itself to [ttl] (errors from faulty nodes, or a lost lease, are expected and
     * ignored: the next [use] checks validity). A shorter TTL is the client's own choice to give the lock up
     * sooner, so from the call on the section is trusted no longer than [ttl] from it, unless the lease reports
     * a later deadline afterwards (a keep-alive extension), which [observe] takes, as it takes any overstatement.
     */
    fun extend(ttl: java.time.Duration) {
        val at = System.nanoTime()
        runCatching { lease.extend(ttl) }
        deadline = minOf(deadline, at + ttl.toNanos())
        observe()
    }

    /** Releases (errors from faulty nodes are expected and ignored: the keys expire) and returns the section. */
    fun release(): Section {
        val releasedAt = System.nanoTime()
        runCatching { lease.close() }
        return Section(client, lease.name(), acquiredAt, deadline, releasedAt, lease.fencingToken().orElse(-1), uses.toList(), lostAt)
    }
}
