package io.kotest.provided

import io.kotest.core.config.AbstractProjectConfig
import io.kotest.core.extensions.Extension
import io.kotest.core.extensions.TestCaseExtension
import io.kotest.core.test.TestCase
import io.kotest.core.test.TestType
import io.kotest.engine.test.TestResult
import io.redsync.Redsync
import io.redsync.testkit.RedisNodes
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * Found by Kotest by its name. Warms the JVM once (Netty and Lettuce class loading take hundreds of ms on a
 * loaded 2-core machine), so specs that allow a single attempt do not spend it on a cold first connect.
 * A regression that leaves a call waiting forever fails its test after 120 s, not the build's clock.
 */
class ProjectConfig : AbstractProjectConfig() {
    override val timeout: Duration = 120.seconds

    /**
     * The `connection-loop` profile (redsync-core's pom) sets `redsync.connectionLoop` to run each test that many
     * times in a row, stopping at the first failure (Kotest's own invocations refuse container tests).
     */
    override val extensions: List<Extension> = listOfNotNull(System.getProperty("redsync.connectionLoop")?.toInt()?.let { times ->
        object : TestCaseExtension {
            override suspend fun intercept(testCase: TestCase, execute: suspend (TestCase) -> TestResult): TestResult {
                if (testCase.type == TestType.Container) return execute(testCase)
                var result = execute(testCase)
                var run = 1
                while (run < times && !result.isErrorOrFailure) {
                    result = execute(testCase)
                    run++
                }
                println("connection loop: ${testCase.name.name}: $run run(s), ${if (result.isErrorOrFailure) "FAILED on run $run" else "all passed"}")
                return result
            }
        }
    })

    override suspend fun beforeProject() {
        RedisNodes.start(1).use { nodes -> Redsync.create(nodes.uris()).use { it.lock("warm-up").close() } }
    }
}
