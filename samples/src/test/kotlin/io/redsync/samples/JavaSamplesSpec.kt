package io.redsync.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.nodesPerSpec
import java.sql.DriverManager

class JavaSamplesSpec : FunSpec({
    val nodes = nodesPerSpec(3) {}
    afterTest { nodes.flushAll() }

    test("QuickStart: the README's quick start leaves no lock held and writes with its fencing token; then tryLock while held, and busy reported as LockTakenException") {
        val text = captureStdout { QuickStart.run(nodes.uris()) }
        text shouldContain "account 9 after the quick start: balance=100, fence=1"
        text shouldContain "holding invoice:42 for another"
        text shouldContain "a second tryLock while report:daily is held: false"
        text shouldContain "busy, held on nodes [0, 1, 2]"
        nodes.lockKeys().shouldBeEmpty()
    }

    test("AsyncLocking: releases after async work that succeeds or fails, and a cancelled wait is a cancellation") {
        val text = captureStdout { AsyncLocking.run(nodes.uris()) }
        text shouldContain "cache refreshed under cache:refresh"
        text shouldContain "work failed (backend down), lock released anyway: true"
        text shouldContain "stopped waiting for report: cancelled, not failed"
        nodes.lockKeys().shouldBeEmpty()
    }

    test("LeaseKeeping: a lease kept past its expiry, and a lost one interrupting its work") {
        val text = captureStdout { LeaseKeeping.run(nodes.uris()) }
        text shouldContain "report done, lease still valid for"
        text shouldContain "lease lost (REFUSED), work interrupted"
        text shouldContain "kept lease valid: true"
        nodes.lockKeys().shouldBeEmpty()
    }

    test("the README's quick start leaves no key but the fencing counter, and closes what it opened") {
        DriverManager.getConnection("jdbc:h2:mem:leaks").use { db ->
            QuickStart.createTables(db)
            QuickStart.quickStart(nodes.uris(), db)
        }
        nodes.lockKeys().shouldBeEmpty()
        nodes.nodes().flatMap { it.keys() }.toSet() shouldBe setOf("{account:9}:fence")
    }

    test("the README's account table on H2: a lower token updates no row, an equal or higher one does, and the column starts at 0") {
        DriverManager.getConnection("jdbc:h2:mem:fencing").use { db ->
            QuickStart.createTables(db)
            QuickStart.account(db, 9) shouldBe "balance=0, fence=0"
            fun write(balance: Long, token: Long): Int =
                db.prepareStatement("UPDATE account SET balance = ?, fence = ? WHERE id = ? AND fence <= ?").use { update ->
                    update.setLong(1, balance)
                    update.setLong(2, token)
                    update.setLong(3, 9)
                    update.setLong(4, token)
                    update.executeUpdate()
                }
            write(100, 5) shouldBe 1
            write(110, 5) shouldBe 1 // the same lease writing again, or retrying
            write(0, 4) shouldBe 0   // a holder that lost the lock: refused
            QuickStart.account(db, 9) shouldBe "balance=110, fence=5"
        }
    }
})
