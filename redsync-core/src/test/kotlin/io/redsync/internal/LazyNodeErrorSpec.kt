package io.redsync.internal

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.redsync.LockOptions
import io.redsync.NodeException
import io.redsync.Redsync
import io.redsync.testkit.fixtures.ms
import io.redsync.testkit.fixtures.nodesPerSpec
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * A node call that times out costs its ballot a shared marker, not a NodeException: the exception (stack trace,
 * message of several hundred characters) is made only when the failure is reported (issue 18: 2,000 waiting calls
 * kept 104,421 NodeExceptions and as many timeout exceptions alive at once).
 */
class LazyNodeErrorSpec : FunSpec({
    val nodes = nodesPerSpec(3)

    /** What the ballot keeps per failed node, read as the heap would see it. */
    fun Ballot<*>.kept(): List<Any> {
        val field = Ballot::class.java.getDeclaredField("errors").apply { isAccessible = true }
        return (field.get(this) as Array<*>).filterNotNull()
    }

    test("a timed-out node call keeps no NodeException until the failure is reported, and then reads as before") {
        Redsync.builder().uris(nodes.uris()).build().use { redsync ->
            val options = LockOptions.builder().expiry(Duration.ofSeconds(10)).nodeTimeout(ms(200)).build()
            val mutex = redsync.mutex("slow", options) as MutexImpl
            redsync.mutex("warm-up").lock().close() // every node connected before node 2 pauses
            nodes.node(2).pause()
            try {
                val target = mutex.target()
                val ballot = mutex.engine().fanOut(target, Operation.acquire(target, "token", 10_000, false))
                ballot.decided.get(10, TimeUnit.SECONDS)
                ballot.decided(2) shouldBe Vote.FAILED
                ballot.kept().filterIsInstance<NodeException>().shouldBeEmpty()
                // Reported: the same message as an eager exception had.
                val errors = ballot.votes().errors()
                errors shouldHaveSize 1
                errors[0].nodeIndex() shouldBe 2
                errors[0].reason() shouldBe NodeException.Reason.TIMEOUT
                errors[0].message!! shouldContain "no reply within 200 ms (node timeout)"
                ballot.votes().errors()[0] shouldBe errors[0] // made once
            } finally {
                nodes.node(2).resume()
            }
        }
    }
})
