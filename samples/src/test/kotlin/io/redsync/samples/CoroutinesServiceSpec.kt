package io.redsync.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import io.redsync.testkit.RedisNodes

class CoroutinesServiceSpec : FunSpec({
    test("the coroutines service charges once, reports a lost lease, and gives up waiting at its deadline") {
        RedisNodes.start(3).use { nodes ->
            val log = mutableListOf<String>()
            serveInvoices(nodes.uris()) { synchronized(log) { log += it } }
            log shouldHaveSize 3
            log[0] shouldBe "20 concurrent requests for invoice 42: 1 charged it, 19 found it paid"
            log[1] shouldStartWith "invoice 7: Interrupted(invoice=7, reason=REFUSED) after "
            // Cancelled at the first refused extension, not after the 10 s charge or the 2 s validity.
            log[1].substringAfter(" after ").substringBefore(" ms").toInt().let { (it < 2_000) shouldBe true }
            log[2] shouldBe "invoice 99 with a 300 ms deadline: gave up waiting, nothing held"
            nodes.lockKeys().shouldBeEmpty()
        }
    }
})
