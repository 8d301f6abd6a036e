package io.redsync

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.redsync.testkit.RedisNodes
import kotlin.time.Duration.Companion.minutes

/**
 * A fresh instance's first lock call succeeds on healthy password-protected nodes, and a wrong password is
 * reported as one (issue 14, items 1 and 2). Lettuce's handshake with a password can finish off the event loop,
 * completing the connect future before the connection is active: a command sent then was rejected ("Currently not
 * connected"), and a refused password surfaced as "Connection closed prematurely" or "RedisHandshakeHandler not
 * registered". Each case runs many fresh single-node instances in a child JVM whose common pool has parallelism 1
 * (as on a 2-core machine) and whose CPU is loaded, where that race is most frequent. `-Dredsync.firstCallInstances`
 * sets how many (default 300).
 */
class FirstCallSpec : FunSpec({
    val password = "First-call-pw"
    val nodes = RedisNodes.builder().count(3).password(password).start()
    afterSpec { nodes.close() }
    val instances = System.getProperty("redsync.firstCallInstances")?.toInt() ?: 300

    fun failures(output: String): Int =
        Regex("first-call failures: (\\d+) of").find(output)?.groupValues?.get(1)?.toInt() ?: error("no summary in: $output")

    test("nodes given as URIs: no fresh instance's first call fails").config(timeout = 15.minutes) {
        val output = FirstCallMain.runChild("uris", instances, nodes.uris())
        println("FirstCallSpec uris: " + output.lines().last { it.isNotBlank() })
        withClue(output.takeLast(3000)) { failures(output) shouldBe 0 }
    }

    test("nodes given as the caller's client and a RedisURI (a provider Lettuce resolves off the event loop): no first call fails").config(timeout = 15.minutes) {
        val output = FirstCallMain.runChild("client", instances, nodes.uris())
        println("FirstCallSpec client: " + output.lines().last { it.isNotBlank() })
        withClue(output.takeLast(3000)) { failures(output) shouldBe 0 }
    }

    test("a wrong password in a URI is always reported as AUTHENTICATION").config(timeout = 15.minutes) {
        val wrong = nodes.nodes().map { "redis://:Wrong-pw-4711@127.0.0.1:${it.port()}" }
        val output = FirstCallMain.runChild("wrongpass", instances / 5, wrong)
        println("FirstCallSpec wrongpass: " + output.lines().last { it.isNotBlank() })
        withClue(output.takeLast(3000)) { failures(output) shouldBe 0 }
    }
})
