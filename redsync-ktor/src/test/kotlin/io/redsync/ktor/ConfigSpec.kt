package io.redsync.ktor

import com.typesafe.config.ConfigFactory
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import io.ktor.client.request.post
import io.ktor.http.HttpStatusCode
import io.ktor.server.application.call
import io.ktor.server.application.install
import io.ktor.server.config.ApplicationConfigurationException
import io.ktor.server.config.HoconApplicationConfig
import io.ktor.server.config.MapApplicationConfig
import io.ktor.server.response.respondText
import io.ktor.server.routing.post
import io.ktor.server.routing.routing
import io.ktor.server.testing.testApplication
import io.redsync.KeepAlive
import io.redsync.LockOptions
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.nodesPerSpec
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import java.time.Duration
import kotlin.time.Duration.Companion.seconds

class ConfigSpec : FunSpec({
    val nodes = nodesPerSpec(3, RedisNodes::flushAll)

    test("installs purely from a HOCON section: nodes, prefix, options and busy status") {
        val hocon = """
            redsync {
                nodes = [${nodes.uris().joinToString { "\"$it\"" }}]
                keyPrefix = "conf:"
                expiry = "12s"
                tries = 5
                driftFactor = 0.02
                nodeTimeout = "1s"
                acquireTimeout = "30s"
                retryDelay { min = "10ms", max = "20ms" }
                failFast = true
                fencing = true
                keepAlive { interval = "2s", lostMargin = "1s", maxExtensions = 7 }
                busyStatus = 423
            }
        """.trimIndent()
        val entered = CompletableDeferred<Unit>()
        val finish = CompletableDeferred<Unit>()
        var options: LockOptions? = null
        testApplication {
            environment { config = HoconApplicationConfig(ConfigFactory.parseString(hocon)) }
            application {
                install(Redsync)
                options = redsync.defaults
                redsync.keyPrefix shouldBe "conf:"
                redsync.nodeCount shouldBe 3
                routing {
                    withLock("conf-lock") {
                        post("/x") {
                            entered.complete(Unit)
                            finish.await()
                            call.respondText("x")
                        }
                    }
                }
            }
            coroutineScope {
                val first = async { client.post("/x") }
                entered.awaitEnteredBy(first)
                // failFast: granted as soon as a quorum agreed; the third node may answer later.
                (nodes.holding("conf:conf-lock") >= nodes.quorum) shouldBe true
                client.post("/x").status shouldBe HttpStatusCode.Locked
                finish.complete(Unit)
                first.await().status shouldBe HttpStatusCode.OK
            }
        }
        with(options!!) {
            expiry() shouldBe Duration.ofSeconds(12)
            tries() shouldBe 5
            driftFactor() shouldBe 0.02
            nodeTimeout() shouldBe Duration.ofSeconds(1)
            acquireTimeout().get() shouldBe Duration.ofSeconds(30)
            retryDelay().delay(1).toMillis().let { (it in 10..19) shouldBe true }
            failFast() shouldBe true
            fencing() shouldBe true
            keepAlive().interval().get() shouldBe Duration.ofSeconds(2)
            keepAlive().lostMargin().get() shouldBe Duration.ofSeconds(1)
            keepAlive().maxExtensions().asInt shouldBe 7
        }
    }

    test("precedence: built-in defaults < config section < install block") {
        var options: LockOptions? = null
        var prefix: String? = null
        testApplication {
            environment { config = nodes.config("expiry" to "12s", "tries" to "5", "keyPrefix" to "from-config:") }
            application {
                install(Redsync) {
                    keyPrefix = "from-block:"
                    defaults { expiry = 20.seconds } // changes expiry only: tries stays the config's
                }
                options = redsync.defaults
                prefix = redsync.keyPrefix
            }
            startApplication()
        }
        val built = options!!
        built.expiry() shouldBe Duration.ofSeconds(20)
        built.tries() shouldBe 5
        built.driftFactor() shouldBe LockOptions.defaults().driftFactor()
        prefix shouldBe "from-block:"
    }

    test("nodes may come as one comma-separated string (e.g. from an environment variable)") {
        var count = 0
        testApplication {
            environment {
                config = HoconApplicationConfig(ConfigFactory.parseString("""redsync.nodes = "${nodes.uris().joinToString(" , ")}""""))
            }
            application {
                install(Redsync)
                count = redsync.nodeCount
            }
            startApplication()
        }
        count shouldBe 3
    }

    test("keepAlive.enabled = false disables keeping") {
        var keepAlive: KeepAlive? = null
        testApplication {
            environment { config = nodes.config("keepAlive.enabled" to "false") }
            application {
                install(Redsync)
                keepAlive = redsync.defaults.keepAlive()
            }
            startApplication()
        }
        keepAlive!!.enabled() shouldBe false
    }

    context("a bad configuration fails the installation with a message naming the key") {
        data class Row(val label: String, val values: List<Pair<String, Any>>, val message: String, val withNodes: Boolean = true)
        withData(
            nameFn = { it.label },
            Row("no nodes", emptyList(), "redsync.nodes is empty: ", withNodes = false),
            Row("empty node list", listOf("nodes" to listOf<String>()), "redsync.nodes is empty: "),
            Row("a URI without scheme", listOf("nodes" to listOf("redis://127.0.0.1:1", "localhost:6379")), "redsync.nodes: node 1 URI 'localhost:6379' has no supported scheme"),
            Row("a password in a bad URI is masked", listOf("nodes" to listOf("redis://user:hunter2@:6379/x/y")), "redsync.nodes: node 0 URI 'redis://user:***@"),
            Row("not a duration", listOf("expiry" to "abc"), "redsync.expiry: \"abc\" is not a duration; use e.g. \"10s\""),
            Row("a duration without unit", listOf("nodeTimeout" to "100"), "redsync.nodeTimeout: \"100\" is not a duration"),
            Row("not an integer", listOf("tries" to "many"), "redsync.tries: \"many\" is not an integer"),
            Row("not a boolean", listOf("fencing" to "yes"), "redsync.fencing: \"yes\" is not a boolean; use true or false"),
            Row("tries out of range", listOf("tries" to "0"), "redsync.tries: tries must be >= 1, was 0"),
            Row("driftFactor out of range", listOf("driftFactor" to "1.5"), "redsync.driftFactor: driftFactor must be in (0, 1), was 1.5"),
            Row("expiry not positive", listOf("expiry" to "0s"), "redsync.expiry: expiry must be > 0, was PT0S"),
            Row("nodeTimeout not below expiry", listOf("expiry" to "1s", "nodeTimeout" to "2s"), "redsync.nodeTimeout: nodeTimeout must be < expiry (PT1S), was PT2S"),
            Row("keepAlive interval not positive", listOf("keepAlive.interval" to "-1s"), "redsync.keepAlive.interval: interval must be > 0"),
            Row("keepAlive interval against expiry", listOf("expiry" to "3s", "keepAlive.interval" to "5s"), "redsync.keepAlive: keepAlive interval must be < expiry"),
            Row("half a retry delay", listOf("retryDelay.min" to "10ms"), "redsync.retryDelay.max is missing"),
            Row("busy status not an error", listOf("busyStatus" to "200"), "redsync.busyStatus must be a 4xx or 5xx status, was 200"),
            Row("unknown key", listOf("expiri" to "10s"), "redsync.expiri: unknown key; the section knows nodes, keyPrefix, busyStatus, expiry"),
        ) { row ->
            val failure = shouldThrow<ApplicationConfigurationException> {
                testApplication {
                    environment {
                        config = if (row.withNodes) nodes.config(*row.values.toTypedArray()) else MapApplicationConfig("redsync.keyPrefix" to "p:")
                    }
                    application { install(Redsync) }
                    startApplication()
                }
            }
            failure.message!! shouldContain row.message
            failure.message!! shouldNotContain "hunter2"
        }
    }

    test("the install block's busyStatus is checked too") {
        shouldThrow<ApplicationConfigurationException> {
            testApplication {
                application { installRedsync(nodes) { busyStatus = HttpStatusCode.OK } }
                startApplication()
            }
        }.message!! shouldContain "redsync.busyStatus must be a 4xx or 5xx status, was 200 OK"
    }
})
