package io.redsync.safety

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.redsync.safety.Violation.Kind.LATE_USE
import io.redsync.safety.Violation.Kind.OVERLAP
import io.redsync.safety.Violation.Kind.TOKEN_ORDER
import java.io.File

/** Hand-built histories; times in milliseconds for readability. */
private fun s(client: String, from: Long, deadline: Long, released: Long, token: Long, uses: List<Long> = emptyList(), lost: Long? = null, name: String = "L") =
    Section(client, name, from * 1_000_000, deadline * 1_000_000, released * 1_000_000, token, uses.map { it * 1_000_000 }, lost?.times(1_000_000))

class HistoryCheckerSpec : FunSpec({
    val checker = HistoryChecker()

    test("a clean history passes: back-to-back sections, a holder that outlived its deadline without using it, a lost lease") {
        val report = checker.check(listOf(
            s("a", 0, 100, 50, 1, uses = listOf(10, 40)),
            s("b", 50, 150, 120, 2, uses = listOf(60)),
            s("c", 130, 200, 400, 3, uses = listOf(140)),      // kept running past its deadline but did not use the lock
            s("d", 200, 300, 250, 4, uses = listOf(210)),      // starts exactly when c's trust ended
            s("e", 300, 400, 500, 5, uses = listOf(310, 450), lost = 380), // used late, but reported lost first
            s("x", 0, 1000, 1000, 1, name = "other"),           // another lock name is independent
        ))
        report.ok shouldBe true
        report.sections shouldBe 6
        report.names shouldBe 2
        report.uses shouldBe 7
        report.lostReports shouldBe 1
        report.describe() shouldContain "no violations"
    }

    test("overlapping trusted windows are detected, naming both sections") {
        val report = checker.check(listOf(s("a", 0, 100, 80, 1), s("b", 60, 160, 120, 2), s("c", 200, 300, 250, 3)))
        report.violations shouldHaveSize 1
        report.count(OVERLAP) shouldBe 1
        report.violations[0].sections.map { it.client } shouldBe listOf("a", "b")
        report.describe() shouldContain "1 OVERLAP"
    }

    test("a section acquired after its deadline (never trusted) overlaps nothing; one section overlapping two is reported twice") {
        checker.check(listOf(s("a", 0, 100, 100, 1), s("late", 50, 40, 90, 2))).let {
            it.ok shouldBe true
            it.untrusted shouldBe 1
        }
        checker.check(listOf(s("a", 0, 100, 90, 1), s("b", 10, 100, 30, 2), s("c", 20, 100, 40, 3))).count(OVERLAP) shouldBe 3
    }

    test("a fencing token regression or repeat is detected, also against an earlier maximum") {
        checker.check(listOf(s("a", 0, 100, 10, 5), s("b", 20, 100, 30, 3))).count(TOKEN_ORDER) shouldBe 1
        checker.check(listOf(s("a", 0, 100, 10, 5), s("b", 20, 100, 30, 5))).count(TOKEN_ORDER) shouldBe 1
        checker.check(listOf(s("a", 0, 100, 10, 5), s("b", 20, 100, 30, 3), s("c", 40, 100, 50, 4))).count(TOKEN_ORDER) shouldBe 2
        checker.check(listOf(s("a", 0, 100, 10, -1), s("b", 20, 100, 30, -1))).ok shouldBe true // no fencing
    }

    test("a use after the deadline without an earlier lost report is detected") {
        checker.check(listOf(s("a", 0, 100, 300, 1, uses = listOf(50, 250)))).let {
            it.count(LATE_USE) shouldBe 1
            it.violations[0].detail shouldContain "150.000 ms after its deadline"
        }
        checker.check(listOf(s("a", 0, 100, 300, 1, uses = listOf(250), lost = 260))).count(LATE_USE) shouldBe 1 // reported too late
    }

    test("histories survive a round trip through a file, as child JVMs write them") {
        val history = listOf(s("a", 0, 100, 50, 1, uses = listOf(10, 40), lost = 45), s("b", 60, 160, Long.MAX_VALUE / 1_000_000, -1))
        val file = File.createTempFile("history", ".tsv")
        try {
            HistoryFile.write(file, history)
            HistoryFile.read(file) shouldBe history
        } finally {
            file.delete()
        }
    }
})
