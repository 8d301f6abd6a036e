package io.redsync.ktor.usage

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.ktor.server.application.install
import io.ktor.server.testing.testApplication
import io.redsync.Redsync
import io.redsync.coroutines.Redsync
import io.redsync.ktor.Redsync
import io.redsync.ktor.redsync
import io.redsync.testkit.RedisNodes

/**
 * A user's file that needs all three `Redsync`s: the interface (a type), the coroutines factory (a
 * function) and the Ktor plugin (a value). Kotlin tells them apart by position, so all three imports
 * coexist without aliases; this spec compiling is most of the test.
 */
class ImportsSpec : FunSpec({
    val nodes = RedisNodes.start(1)
    afterSpec { nodes.close() }

    test("the interface, the coroutines factory and the plugin are all called Redsync, and one file can use all three") {
        val own: Redsync = Redsync(nodes.uris()) { keyPrefix = "own:" } // factory → interface type
        own.use {
            var fromPlugin: Redsync? = null
            testApplication {
                application {
                    install(Redsync) { this.nodes = nodes.uris() } // the plugin
                    fromPlugin = redsync
                }
                startApplication()
            }
            fromPlugin!!.nodeCount() shouldBe 1
            own.keyPrefix() shouldBe "own:"
        }
    }
})
