package io.redsync.safety

/** What the checker found wrong, with the sections involved. */
data class Violation(val kind: Kind, val name: String, val detail: String, val sections: List<Section>) {
    enum class Kind {
        /** Two sections of one lock were trusted at the same time. */
        OVERLAP,

        /** A trusted section's fencing token is not above every token granted before it. */
        TOKEN_ORDER,

        /** A lease was used after its deadline without having been reported lost first. */
        LATE_USE,
    }

    override fun toString(): String = "$kind on '$name': $detail\n" + sections.joinToString("\n") { "    $it" }
}

/** The checker's verdict: counts, and every violation with the sections involved. */
data class Report(
    val sections: Int,
    val names: Int,
    val uses: Int,
    val lostReports: Int,
    /** Leases whose validity had run out before `lock()` returned (never trusted; allowed, but worth counting). */
    val untrusted: Int,
    val violations: List<Violation>,
) {
    val ok: Boolean get() = violations.isEmpty()

    fun count(kind: Violation.Kind): Int = violations.count { it.kind == kind }

    /** A multi-line summary with at most [limit] violations in full. */
    fun describe(limit: Int = 10): String = buildString {
        append("checked $sections sections of $names locks, $uses uses, $lostReports lost reports, $untrusted untrusted grants: ")
        append(if (ok) "no violations" else Violation.Kind.values().joinToString(", ", postfix = " violations") { "${count(it)} $it" })
        violations.take(limit).forEach { append("\n  ").append(it.toString()) }
        if (violations.size > limit) append("\n  ... and ${violations.size - limit} more")
    }
}

/**
 * Checks a history of critical sections (from any number of clients and processes on one machine) for the
 * three ways a lock can lie:
 *
 * 1. OVERLAP: two sections of the same lock whose trusted windows `[acquiredAt, min(releasedAt, deadline))`
 *    intersect. Each client trusts its lease only until its validity deadline, so a later holder may start
 *    after that deadline even if the first one is still running: that is the lease doing its job.
 * 2. TOKEN_ORDER: among trusted sections of one lock, in grant order (acquiredAt), every fencing token must
 *    be strictly greater than all tokens before it. Sections without a token (-1) are skipped.
 * 3. LATE_USE: a use after the section's deadline that no lost report preceded: the library said "valid"
 *    when it was not, and said nothing.
 */
class HistoryChecker {
    fun check(history: Collection<Section>): Report {
        val violations = ArrayList<Violation>()
        history.groupBy { it.name }.forEach { (name, sections) ->
            val trusted = sections.filter { it.trusted }.sortedBy { it.acquiredAt }
            overlaps(name, trusted, violations)
            tokenOrder(name, trusted, violations)
        }
        history.forEach { s ->
            s.uses.filter { it > s.deadline && (s.lostAt == null || s.lostAt > it) }.forEach { use ->
                violations.add(Violation(Violation.Kind.LATE_USE, s.name,
                    "used ${Section.ms(use - s.deadline)} after its deadline, not reported lost before", listOf(s)))
            }
        }
        return Report(history.size, history.map { it.name }.toSet().size, history.sumOf { it.uses.size },
            history.count { it.lostAt != null }, history.count { !it.trusted }, violations)
    }

    /** Sweep in grant order, keeping the sections still trusted when the next one is granted. */
    private fun overlaps(name: String, byGrant: List<Section>, out: MutableList<Violation>) {
        val open = ArrayList<Section>()
        for (s in byGrant) {
            open.removeAll { it.trustedUntil <= s.acquiredAt }
            open.forEach { earlier ->
                out.add(Violation(Violation.Kind.OVERLAP, name, "${s.client} acquired ${Section.ms(earlier.trustedUntil - s.acquiredAt)} " +
                    "before ${earlier.client}'s section stopped being trusted", listOf(earlier, s)))
            }
            open.add(s)
        }
    }

    private fun tokenOrder(name: String, byGrant: List<Section>, out: MutableList<Violation>) {
        var highest: Section? = null
        for (s in byGrant.filter { it.token >= 0 }) {
            val top = highest
            if (top != null && s.token <= top.token) {
                out.add(Violation(Violation.Kind.TOKEN_ORDER, name, "token ${s.token} granted after token ${top.token}", listOf(top, s)))
            }
            if (top == null || s.token > top.token) highest = s
        }
    }
}
