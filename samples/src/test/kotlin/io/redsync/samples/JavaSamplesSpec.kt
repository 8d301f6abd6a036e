package io.redsync.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.string.shouldContain
import io.redsync.testkit.RedisNodes

class JavaSamplesSpec : FunSpec({
    val nodes = RedisNodes.start(3)
    afterSpec { nodes.close() }
    afterTest { nodes.flushAll() }

    test("QuickStart: try-with-resources, tryLock while held, and a busy lock reported as LockTakenException") {
        val text = captureStdout { QuickStart.run(nodes.uris()) }
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
})
