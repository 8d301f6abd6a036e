package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import io.kotest.matchers.types.shouldNotBeInstanceOf
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.resource.DefaultClientResources
import io.netty.resolver.DefaultAddressResolverGroup
import io.redsync.testkit.RedisNode
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.heal
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.ms
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * Misconfigured nodes: each surfaces as a [NodeException] whose [NodeException.reason] and message say what is
 * wrong and how to fix it, whether it is the only node or one bad node among good ones, and no lock key is
 * left behind on any node.
 */
class HostileConfigSpec : FunSpec({
    val adminPassword = "Adm1n-hostile-pw"
    // Nodes 0-2 take locks; node 3 is only the master that the replica case follows.
    val nodes = RedisNodes.builder().count(4).password(adminPassword).start()
    val jvmResolving = DefaultClientResources.builder().addressResolverGroup(DefaultAddressResolverGroup.INSTANCE).build()
    val jvmResolvingClient = RedisClient.create(jvmResolving)
    afterSpec {
        jvmResolvingClient.shutdown()
        jvmResolving.shutdown()
        nodes.close()
    }
    beforeEach { nodes.heal() }

    /** One misconfiguration: [setUp] breaks a node and returns the URI a user would give for it. */
    data class Hostile(
        val name: String,
        val reason: NodeException.Reason,
        val says: Regex,
        val planted: Set<String> = emptySet(),
        /** Resolve host names with the JVM's resolver (the OS's, as getent does) on a client of the test's own. */
        val jvmResolver: Boolean = false,
        val tearDown: (RedisNode) -> Unit = {},
        val setUp: (RedisNode) -> String,
    ) {
        override fun toString() = name
    }

    // A node timeout no cold connect on a loaded machine exceeds: a failure must show its reason, not TIMEOUT.
    fun options(tries: Int, case: Hostile) = LockOptions.builder().tries(tries).retryDelay(RetryDelay.constant(ms(1)))
        .expiry(Duration.ofSeconds(30)).nodeTimeout(Duration.ofSeconds(3)).build()

    fun aclUser(node: RedisNode, user: String, vararg rules: String): String {
        node.call("ACL", "SETUSER", user, "reset", "on", ">Pw-$user", *rules)
        return "redis://$user:Pw-$user@127.0.0.1:${node.port()}"
    }

    val cases = listOf(
        Hostile("a wrong password", NodeException.Reason.AUTHENTICATION, Regex("WRONGPASS")) {
            "redis://:Wrong-pw-4711@127.0.0.1:${it.port()}"
        },
        Hostile("no password for a node that requires one", NodeException.Reason.AUTHENTICATION, Regex("NOAUTH")) {
            "redis://127.0.0.1:${it.port()}"
        },
        Hostile("an ACL user that may not run scripts", NodeException.Reason.PERMISSION, Regex("NOPERM"),
            tearDown = { it.call("ACL", "DELUSER", "noscripts") }) {
            aclUser(it, "noscripts", "~*", "&*", "+@all", "-eval", "-evalsha")
        },
        Hostile("an ACL user that may not SET", NodeException.Reason.PERMISSION, Regex("NOPERM|can't run this command"),
            tearDown = { it.call("ACL", "DELUSER", "noset") }) {
            aclUser(it, "noset", "~*", "&*", "+@all", "-set")
        },
        Hostile("an ACL user whose key pattern excludes the lock keys", NodeException.Reason.PERMISSION, Regex("NOPERM|can't access"),
            tearDown = { it.call("ACL", "DELUSER", "appkeys") }) {
            aclUser(it, "appkeys", "~app:*", "&*", "+@all")
        },
        Hostile("a read-only replica", NodeException.Reason.READ_ONLY_REPLICA, Regex("READONLY"),
            tearDown = { it.call("REPLICAOF", "NO", "ONE") }) {
            it.call("CONFIG", "SET", "masterauth", adminPassword)
            it.call("REPLICAOF", "127.0.0.1", nodes.node(3).port().toString())
            it.uri()
        },
        Hostile("a node full of data under noeviction", NodeException.Reason.OUT_OF_MEMORY, Regex("OOM"),
            tearDown = { it.call("CONFIG", "SET", "maxmemory", "0") }) {
            // The data it holds is above maxmemory: every write is refused, reads still work.
            (1..50).forEach { i -> it.call("SET", "app:data:$i", "x".repeat(1000)) }
            it.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
            it.call("CONFIG", "SET", "maxmemory", "1")
            it.uri()
        },
        Hostile("a list stored under the lock key", NodeException.Reason.WRONG_TYPE, Regex("WRONGTYPE"), planted = setOf("hostile")) {
            it.call("RPUSH", "hostile", "application data")
            it.uri()
        },
        Hostile("nothing listening on the port", NodeException.Reason.UNREACHABLE, Regex("Connection refused")) {
            "redis://127.0.0.1:${freePort()}"
        },
        Hostile("a host name that does not resolve", NodeException.Reason.UNKNOWN_HOST, Regex("no-such-host.invalid"),
            // Lettuce's default, Netty's own DNS client, sometimes waited more than 20 s for this sandbox's DNS server
            // to answer (then the failure is a TIMEOUT, correctly classified); the OS resolver answers NXDOMAIN at once.
            jvmResolver = true) {
            "redis://no-such-host.invalid:6379"
        },
    )

    fun Redsync.Builder.node(case: Hostile, uri: String): Redsync.Builder =
        if (case.jvmResolver) node(jvmResolvingClient, RedisURI.create(uri)) else uri(uri)

    /**
     * Every key left on the lock nodes but the application data a case planted on purpose (which must be intact;
     * it is deleted here).
     */
    fun leftovers(case: Hostile, bad: Int): List<Set<String>> {
        case.planted.forEach { key ->
            nodes.node(bad).call("LRANGE", key, "0", "-1") shouldBe listOf("application data")
            nodes.node(bad).call("DEL", key)
        }
        return nodes.nodes().take(3).map { n -> n.keys().filterNot { it.startsWith("app:") }.toSet() }
    }

    fun NodeException.shouldExplain(case: Hostile, index: Int) = withClue(message) {
        nodeIndex() shouldBe index
        reason() shouldBe case.reason
        message shouldContain "node $index ("
        message shouldContain case.says
        message shouldContain case.reason.fix()
    }

    context("the only node is misconfigured: the lock fails with the node's reason and leaves nothing") {
        withData(nameFn = { it.name }, cases) { case ->
            nodes.heal()
            val uri = case.setUp(nodes.node(0))
            try {
                Redsync.builder().node(case, uri).defaults(options(tries = 2, case)).build().use { redsync ->
                    val e = shouldThrow<LockAcquisitionException> { redsync.lock("hostile") }
                    e.shouldNotBeInstanceOf<LockTakenException>()
                    e.votes().failed() shouldBe listOf(0)
                    e.votes().errors().single().shouldExplain(case, 0)
                    // The quorum failure's own message carries the node's reason: a log line of it is enough.
                    e.message shouldContain case.says
                    e.message shouldContain case.reason.fix()
                    e.message shouldNotContain adminPassword
                    e.message shouldNotContain "Wrong-pw-4711"
                    e.message shouldNotContain "Pw-"
                }
            } finally {
                case.tearDown(nodes.node(0))
            }
            leftovers(case, 0).forEach { it.shouldBeEmpty() }
        }
    }

    context("one misconfigured node of three: the two good ones make the quorum, failures name the bad node") {
        withData(nameFn = { it.name }, cases) { case ->
            nodes.heal()
            val uris = listOf(nodes.node(0).uri(), case.setUp(nodes.node(1)), nodes.node(2).uri())
            try {
                Redsync.builder().uri(uris[0]).node(case, uris[1]).uri(uris[2]).defaults(options(tries = 1, case)).build().use { redsync ->
                    val lease = redsync.lock("hostile")
                    nodes.nodes().take(3).map { it.call("TYPE", "hostile") == "string" && it.call("GET", "hostile") == lease.value() } shouldBe
                        listOf(true, false, true)
                    lease.extend()
                    lease.release()

                    // With another owner on node 2 the good nodes no longer make a quorum. A split vote (us on 0,
                    // another owner on 2) is busy unless the failed node is misconfigured, which is always
                    // reported: then the failure says why node 1 failed (issue 13 item 8).
                    nodes.node(2).call("SET", "hostile", "someone else", "PX", "60000")
                    if (!case.reason.isConfiguration) {
                        redsync.mutex("hostile").tryLock().isPresent shouldBe false
                        nodes.node(2).call("DEL", "hostile")
                        return@use
                    }
                    val e = shouldThrow<LockAcquisitionException> { redsync.mutex("hostile").tryLock() }
                    e.shouldNotBeInstanceOf<LockTakenException>()
                    e.votes().failed() shouldBe listOf(1)
                    e.votes().heldByOthers() shouldBe listOf(2)
                    e.votes().errors().single().shouldExplain(case, 1)
                    e.message shouldContain "node 1 ("
                    e.message shouldContain case.reason.fix()
                    nodes.node(2).call("DEL", "hostile")
                }
            } finally {
                case.tearDown(nodes.node(1))
            }
            leftovers(case, 1).forEach { it.shouldBeEmpty() }
        }
    }

    test("an ACL user with exactly the rule in the README locks, waits for notifications, extends, keeps alive, fences and unlocks") {
        // The rule documented in README.md, section "Redis permissions", for keyPrefix "locks:".
        val rule = arrayOf(
            "resetkeys", "~locks:*", "~{locks:*", "resetchannels", "&redsync:released:locks:*",
            "-@all", "+set", "+get", "+pttl", "+del", "+pexpire", "+publish", "+eval", "+evalsha", "+script|load",
            "+subscribe", "+unsubscribe", "+info",
        )
        val lockNodes = nodes.nodes().take(3)
        val uris = lockNodes.map { aclUser(it, "locker", *rule) }
        lockNodes.forEach { it.call("ACL", "LOG", "RESET") }
        try {
            Redsync.builder().uris(uris).keyPrefix("locks:").build().use { redsync ->
                val holder = redsync.lock("job", LockOptions.builder().expiry(Duration.ofSeconds(30)).build())
                // The waiter would poll only every 20 s: getting the lock sooner takes the release notification.
                val waiter = redsync.lockAsync("job", LockOptions.builder().expiry(Duration.ofSeconds(30))
                    .retryDelay(RetryDelay.constant(Duration.ofSeconds(20))).build())
                fun subscribers() = lockNodes.map { (it.call("PUBSUB", "NUMSUB", "redsync:released:locks:job") as List<*>)[1] }
                try {
                    awaitUntil("the waiter subscribed on every node") { subscribers().all { it == 1L } }
                } catch (e: AssertionError) {
                    // Say what the waiter was doing if this ever fails.
                    val outcome = if (waiter.isDone) runCatching { waiter.get() }.fold({ "acquired $it" }, { "failed: $it" }) else "waiting"
                    throw AssertionError("${e.message}; subscribers per node ${subscribers()}, waiter $outcome", e)
                }
                holder.extend()
                holder.release()
                val second = waiter.get(15, TimeUnit.SECONDS)

                // Scripts flushed (a restart would do the same): EVALSHA meets NOSCRIPT and falls back to EVAL.
                lockNodes.forEach { it.call("SCRIPT", "FLUSH") }
                val before = lockNodes.sumOf { it.scriptCalls() }
                second.keepAlive(KeepAlive.builder().interval(ms(50)).build())
                awaitUntil("two keep-alive extensions") { lockNodes.sumOf { it.scriptCalls() } >= before + 2 * 3 }
                second.release()

                val fenced = LockOptions.builder().fencing(true).build()
                val first = redsync.lock("fenced", fenced).use { it.fencingToken().asLong }
                val next = redsync.lock("fenced", fenced).use { it.fencingToken().asLong }
                next shouldBeGreaterThan first
            }
            lockNodes.forEach { node ->
                // Lettuce also sends CLIENT SETINFO on connect and ignores a refusal (Redis 6.2 logs it; 7.0 does
                // not know the subcommand): not one of ours.
                (node.call("ACL", "LOG") as List<*>).map { (it as List<*>).chunked(2).associate { (k, v) -> k to v } }
                    .filterNot { it["object"] == "client" }.shouldBeEmpty()
                node.keys().filterNot { it.endsWith(":fence") }.shouldBeEmpty()
            }
        } finally {
            lockNodes.forEach { it.call("ACL", "DELUSER", "locker") }
        }
    }

    test("SCRIPT FLUSH between calls is recovered transparently: acquire, extend and release still succeed") {
        Redsync.builder().uris(nodes.uris().take(3)).build().use { redsync ->
            val lockNodes = nodes.nodes().take(3)
            for (options in listOf(LockOptions.defaults(), LockOptions.builder().fencing(true).build())) {
                lockNodes.forEach { it.call("SCRIPT", "FLUSH") }
                val lease = redsync.lock("flushed", options) // with fencing the acquire itself is a script
                lockNodes.forEach { it.call("SCRIPT", "FLUSH") }
                lease.extend()
                lockNodes.forEach { it.call("SCRIPT", "FLUSH") }
                lease.release()
            }
            lockNodes.forEach { node ->
                node.keys().filterNot { it.endsWith(":fence") }.shouldBeEmpty()
                // Proof the fallback ran: the node refused EVALSHA with NOSCRIPT and then ran EVAL.
                val errors = node.call("INFO", "errorstats") as String
                Regex("errorstat_NOSCRIPT:count=(\\d+)").find(errors)!!.groupValues[1].toLong() shouldBeGreaterThan 0
            }
        }
    }

    test("when configuration errors leave too few nodes for a quorum, the call fails after one attempt instead of 32") {
        val wrong = (0..2).map { "redis://:Wrong-pw-4711@127.0.0.1:${nodes.node(it).port()}" }
        Redsync.builder().uris(wrong).build().use { redsync ->
            val e = shouldThrow<LockAcquisitionException> { redsync.lock("hopeless") }
            e.attempts() shouldBe 1
            e.votes().errors().map { it.reason() }.toSet() shouldBe setOf(NodeException.Reason.AUTHENTICATION)
            e.message!! shouldContain "retrying cannot help"
        }
        // One bad node of three leaves a quorum possible: the call keeps trying while another owner holds it.
        nodes.node(1).call("SET", "contended", "someone-else", "PX", "30000")
        nodes.node(2).call("SET", "contended", "someone-else", "PX", "30000")
        val oneBad = listOf(wrong[0], "redis://:$adminPassword@127.0.0.1:${nodes.node(1).port()}",
            "redis://:$adminPassword@127.0.0.1:${nodes.node(2).port()}")
        Redsync.builder().uris(oneBad).build().use { redsync ->
            val options = LockOptions.builder().tries(3).retryDelay(RetryDelay.constant(ms(1))).build()
            shouldThrow<LockTakenException> { redsync.lock("contended", options) }.attempts() shouldBe 3
        }
        nodes.keysByNode().forEach { keys -> keys.filter { !it.startsWith("contended") }.shouldBeEmpty() }
    }
})
