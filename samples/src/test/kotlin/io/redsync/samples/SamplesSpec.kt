package io.redsync.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.redsync.testkit.RedisNodes
import java.io.ByteArrayOutputStream
import java.io.PrintStream

class SamplesSpec : FunSpec({

    test("the demo runs to completion with an exact counter, no overlap, and a node killed midway") {
        val output = ByteArrayOutputStream()
        val ok = LocalNodes.fromEnvironmentOrStart(3).use { nodes ->
            val result = Demo(PrintStream(output, true), 4, 15).run(nodes)
            nodes.local().get().keysEverywhere() shouldBe 0
            result
        }
        val text = output.toString()
        ok shouldBe true
        text shouldContain "node 2 killed"
        text shouldContain "node 2 restarted"
        text shouldContain "| counter (unsynchronised)     |     60 |"
        text shouldContain "| overlapping sections         |      0 |"
    }

    test("the quick start runs and reports a busy lock as LockTakenException") {
        RedisNodes.start(3).use { nodes ->
            val previous = System.out
            val output = ByteArrayOutputStream()
            System.setOut(PrintStream(output, true))
            try { QuickStart.run(nodes.uris()) } finally { System.setOut(previous) }
            val text = output.toString()
            text shouldContain "holding invoice:42"
            text shouldContain "a second tryLock while held: false"
            text shouldContain "refreshing under cache:refresh"
            text shouldContain "busy, held on nodes [0, 1, 2]"
            nodes.nodes().sumOf { it.keys().size } shouldBe 0
        }
    }
})

class LeaseKeepingSampleSpec : FunSpec({
    test("the Java lease-keeping sample keeps a lease past its expiry and reports a lost one") {
        RedisNodes.start(3).use { nodes ->
            val previous = System.out
            val output = ByteArrayOutputStream()
            System.setOut(PrintStream(output, true))
            try { LeaseKeeping.run(nodes.uris()) } finally { System.setOut(previous) }
            val text = output.toString()
            text shouldContain "report done, lease still valid for"
            text shouldContain "lease lost (REFUSED), work interrupted"
            text shouldContain "kept lease valid: true"
            nodes.nodes().sumOf { it.keys().size } shouldBe 0
        }
    }
})

private fun RedisNodes.keysEverywhere(): Int = nodes().filter { it.isRunning }.sumOf { it.keys().size }
