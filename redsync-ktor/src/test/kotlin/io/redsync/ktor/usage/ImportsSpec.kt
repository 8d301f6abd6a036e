package io.redsync.ktor.usage

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeSameInstanceAs
import io.ktor.server.application.install
import io.ktor.server.testing.testApplication
import io.redsync.Redsync
import io.redsync.coroutines.CoroutineRedsync
import io.redsync.ktor.Redsync
import io.redsync.ktor.redsync
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.nodesPerSpec

/**
 * A user's file that needs the Java interface `Redsync` (a type), the Ktor plugin `Redsync` (a value) and
 * the Kotlin factory. Kotlin tells the two `Redsync`s apart by position, so both imports coexist without
 * aliases; the factory is named after the type it returns, `CoroutineRedsync`, so that completing
 * `Redsync(` cannot pick the Java interface (which has no constructor). This spec compiling is most of
 * the test.
 */
class ImportsSpec : FunSpec({
    val nodes = nodesPerSpec(1) {}

    test("the interface and the plugin are both called Redsync, the factory CoroutineRedsync, and one file uses all three") {
        val own: CoroutineRedsync = CoroutineRedsync(nodes.uris()) { keyPrefix = "own:" }
        own.use {
            val java: Redsync = own.asJava() // the blocking API of the same instance
            var fromPlugin: CoroutineRedsync? = null
            testApplication {
                application {
                    install(Redsync) { this.nodes = nodes.uris() } // the plugin
                    fromPlugin = redsync
                }
                startApplication()
            }
            fromPlugin!!.nodeCount shouldBe 1
            java.keyPrefix() shouldBe "own:"
            java.defaults() shouldBeSameInstanceAs own.defaults
        }
    }
})
