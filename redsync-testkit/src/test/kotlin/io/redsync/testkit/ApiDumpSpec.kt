package io.redsync.testkit

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.redsync.testkit.fixtures.committedApi
import io.redsync.testkit.fixtures.renderApi

/**
 * The testkit's public API is committed as text (api/redsync-testkit.api), as redsync-core's is, so a change
 * shows up in review, rendered by the same renderer (io.redsync.testkit.fixtures). Accept an intended change with:
 * mvn -pl redsync-testkit test -Dtest=ApiDumpSpec -Dapi.update=true
 */
class ApiDumpSpec : FunSpec({
    test("the public API matches api/redsync-testkit.api") {
        val dump = renderApi("io.redsync.testkit")
        dump shouldBe committedApi("api/redsync-testkit.api", dump)
        listOf("final class io.redsync.testkit.RedisNodes", "interface io.redsync.testkit.RedisNode",
            "final class io.redsync.testkit.FaultProxy").forEach { dump shouldContain it }
    }
})
