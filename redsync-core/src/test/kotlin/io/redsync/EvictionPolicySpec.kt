package io.redsync

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.heal
import java.io.ByteArrayOutputStream
import java.io.PrintStream

/**
 * A lock node whose eviction policy can evict lock keys is reported at connect (issue 13, item 11): every lock key
 * has a TTL, so volatile-* policies evict live lock keys first, and allkeys-* policies can evict fencing counters.
 */
class EvictionPolicySpec : FunSpec({
    val nodes = RedisNodes.start(2)
    afterSpec { nodes.close() }
    beforeEach {
        nodes.heal()
        nodes.node(0).call("CONFIG", "SET", "maxmemory-policy", "volatile-lru")
        nodes.node(1).call("CONFIG", "SET", "maxmemory-policy", "noeviction")
    }

    /** What the library logged (slf4j-simple: INFO and above, to System.err, looked up on every write) during [block]. */
    fun logged(block: () -> Unit): String {
        val captured = ByteArrayOutputStream()
        val original = System.err
        System.setErr(PrintStream(captured, true))
        try {
            block()
        } finally {
            System.setErr(original)
        }
        return captured.toString()
    }

    test("a node with volatile-lru is warned about once, naming the node and noeviction") {
        val log = logged {
            Redsync.create(nodes.node(0).uri()).use { redsync ->
                redsync.lock("evictable").release()
                redsync.lock("evictable").release()
            }
        }
        val warnings = log.lines().filter { it.contains("maxmemory-policy volatile-lru") }
        warnings.size shouldBe 1
        warnings.single() shouldContain "WARN"
        warnings.single() shouldContain "127.0.0.1:${nodes.node(0).port()}"
        warnings.single() shouldContain "noeviction"
    }

    test("a node with noeviction gives no warning (beside one with volatile-lru, which does)") {
        // Two nodes: the even-count warning proves the capture works.
        val log = logged { Redsync.create(nodes.node(1).uri(), nodes.node(0).uri()).use { it.lock("kept").release() } }
        log shouldContain "even count"
        log.lines().filter { it.contains("maxmemory-policy") }.single() shouldContain "127.0.0.1:${nodes.node(0).port()}"
        log shouldNotContain "127.0.0.1:${nodes.node(1).port()} has maxmemory-policy"
    }

    test("an ACL user without CONFIG and INFO locks normally; the check is skipped silently") {
        val node = nodes.node(0)
        node.call("ACL", "SETUSER", "noinfo", "reset", "on", ">Pw-noinfo", "~*", "&*", "+@all", "-config", "-info")
        try {
            val log = logged {
                Redsync.create("redis://noinfo:Pw-noinfo@127.0.0.1:${node.port()}").use { redsync ->
                    redsync.lock("no-info").release()
                }
            }
            log shouldNotContain "maxmemory-policy"
            log shouldNotContain "WARN"
        } finally {
            node.call("ACL", "DELUSER", "noinfo")
        }
    }
})
