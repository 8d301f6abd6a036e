package io.redsync.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.redsync.testkit.RedisNodes

/**
 * Runs on the build JDK (17: the sample skips) and, through the `jdk25` profile where a JDK 25 is installed
 * beside it, on JDK 25 (the sample runs).
 */
class VirtualThreadsSampleSpec : FunSpec({
    val hasVirtualThreads = Runtime.version().feature() >= 21

    test("on JDK 21+, 500 guests on virtual threads book each of 50 seats exactly once").config(enabled = hasVirtualThreads) {
        RedisNodes.start(3).use { nodes ->
            lateinit var bookings: Map<Int, Int>
            val text = captureStdout { bookings = VirtualThreads.run(nodes.uris()).get() }
            bookings.keys shouldBe (0 until VirtualThreads.SEATS).toSet()
            bookings.forEach { (seat, guest) -> guest % VirtualThreads.SEATS shouldBe seat }
            text shouldContain "500 guests on 500 virtual threads booked 50 of 50 seats"
            text shouldContain "0 double bookings, 450 turned away"
            nodes.lockKeys().shouldBeEmpty()
        }
    }

    test("on JDK 17, the sample says it needs JDK 21 and does nothing").config(enabled = !hasVirtualThreads) {
        val text = captureStdout { VirtualThreads.run(listOf("redis://127.0.0.1:1")).isPresent shouldBe false }
        text shouldContain "virtual threads need JDK 21 or newer; this is JDK 17: skipped"
    }
})
