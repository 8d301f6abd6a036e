package io.redsync.ktor

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.ktor.server.application.install
import io.ktor.server.config.ApplicationConfigurationException
import io.ktor.server.config.MapApplicationConfig
import io.ktor.server.testing.testApplication
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.redsync.TestCertificates
import io.redsync.startTlsNode
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.keysByNode
import io.redsync.testkit.fixtures.nodesPerSpec

/**
 * The settings the plugin gained from the Kotlin DSL it now builds with: nodes from the application's own
 * Lettuce client and connection (block only), `connectTimeout`, `setNXOnExtend` and TLS from the config.
 */
class PluginSettingsSpec : FunSpec({
    val nodes = nodesPerSpec(3, RedisNodes::flushAll)
    val client = RedisClient.create()
    afterSpec { client.shutdown() }

    test("nodes from the block (the application's connection and client) join the config's URI, in that order") {
        val connection = client.connect(RedisURI.create(nodes.uris()[1]))
        try {
            var count = 0
            testApplication {
                environment { config = MapApplicationConfig("redsync.nodes" to nodes.uris()[0]) }
                application {
                    install(Redsync) {
                        node(connection)
                        node(client, RedisURI.create(nodes.uris()[2]))
                        defaults { nodeTimeout = TEST_NODE_TIMEOUT } // every node answers in time: the key is on all three
                    }
                    count = redsync.nodeCount
                    redsync.asJava().lock("from-block").use { nodes.keysByNode() shouldBe List(3) { setOf("from-block") } }
                }
                startApplication()
            }
            count shouldBe 3
            // Stopping the application closed the plugin's instance, never the application's connection.
            connection.isOpen shouldBe true
            connection.sync().ping() shouldBe "PONG"
        } finally {
            connection.close()
        }
    }

    test("uri() in the block adds to the config's nodes") {
        var count = 0
        testApplication {
            environment { config = MapApplicationConfig("redsync.nodes" to nodes.uris()[0]) }
            application {
                install(Redsync) { uri(nodes.uris()[1]); uri(nodes.uris()[2]) }
                count = redsync.nodeCount
            }
            startApplication()
        }
        count shouldBe 3
    }

    test("setNXOnExtend comes from the config") {
        var setNX = false
        testApplication {
            environment { config = nodes.config("setNXOnExtend" to "true") }
            application {
                install(Redsync)
                setNX = redsync.defaults.setNXOnExtend()
            }
            startApplication()
        }
        setNX shouldBe true
    }

    context("bad connect and TLS settings fail the installation, naming the key") {
        data class Row(val label: String, val values: List<Pair<String, Any>>, val message: String)
        listOf(
            Row("connectTimeout not positive", listOf("connectTimeout" to "0s"), "redsync.connectTimeout: connectTimeout must be positive"),
            Row("connectTimeout not a duration", listOf("connectTimeout" to "soon"), "redsync.connectTimeout: \"soon\" is not a duration"),
            Row("a CA file that does not exist", listOf("sslOptions.trustCertificates" to "/nonexistent/ca.crt"),
                "redsync.sslOptions.trustCertificates: no file at \"/nonexistent/ca.crt\""),
            Row("a key without its certificate chain", listOf("sslOptions.key" to "/nonexistent/client.key"),
                "redsync.sslOptions.keyCertificateChain is missing"),
        ).forEach { row ->
            test(row.label) {
                shouldThrow<ApplicationConfigurationException> {
                    testApplication {
                        environment { config = nodes.config(*row.values.toTypedArray()) }
                        application { install(Redsync) }
                        startApplication()
                    }
                }.message!! shouldContain row.message
            }
        }
    }

    val tlsUnavailable = TestCertificates.unavailableReason
    if (tlsUnavailable != null) println("PluginSettingsSpec: TLS case skipped: $tlsUnavailable")
    test("sslOptions.trustCertificates trusts the servers' CA: the plugin locks over rediss://").config(enabled = tlsUnavailable == null) {
        val certs = TestCertificates.create()
        val tlsNodes = List(3) { startTlsNode(certs) }
        try {
            testApplication {
                environment {
                    config = MapApplicationConfig().apply {
                        put("redsync.nodes", tlsNodes.map { it.tlsUri })
                        put("redsync.sslOptions.trustCertificates", certs.caCert.toString())
                        put("redsync.nodeTimeout", "2s")
                    }
                }
                application {
                    install(Redsync)
                    redsync.asJava().lock("over-tls").use {
                        tlsNodes.map { it.node.keys() } shouldBe List(3) { setOf("over-tls") }
                    }
                }
                startApplication()
            }
        } finally {
            tlsNodes.forEach { it.close() }
            certs.delete()
        }
    }
})
