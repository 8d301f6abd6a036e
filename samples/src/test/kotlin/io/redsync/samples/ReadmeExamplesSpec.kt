package io.redsync.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.redsync.samples.readme.ConfigurationSnippets
import io.redsync.samples.readme.TestkitSnippet
import io.redsync.samples.readme.keepAliveOptions
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.nodesPerSpec
import java.time.Duration

/** Runs the README's examples that are not whole samples (the Java quick start is run by JavaSamplesSpec). */
class ReadmeExamplesSpec : FunSpec({
    val nodes = nodesPerSpec(3) {}

    test("the Kotlin quick start runs, with the instance's fencing default, and leaves no lock held") {
        kotlinQuickStart(nodes.uris()) shouldBe "invoice 42 charged with fencing token 1"
        nodes.lockKeys().shouldBeEmpty()
    }

    test("the keep-alive examples build the same options in Java and Kotlin") {
        listOf(ConfigurationSnippets.keepAlive(), keepAliveOptions()).forEach { options ->
            options.expiry() shouldBe Duration.ofSeconds(5)
            options.keepAlive().interval() shouldBe java.util.Optional.of(Duration.ofSeconds(1))
            options.keepAlive().maxDuration() shouldBe java.util.Optional.of(Duration.ofMinutes(10))
        }
    }

    test("the testkit example: a lease survives one of three nodes killed") {
        TestkitSnippet.nodesHoldingAfterKill() shouldBe 2L
    }
})
