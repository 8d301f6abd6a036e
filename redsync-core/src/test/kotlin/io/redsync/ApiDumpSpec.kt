package io.redsync

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.redsync.testkit.fixtures.committedApi
import io.redsync.testkit.fixtures.renderApi

/**
 * The public API is committed as text (api/redsync-core.api); a change to it is a design decision that
 * shows up in review. Accept an intended change with: mvn -pl redsync-core test -Dtest=ApiDumpSpec -Dapi.update=true
 * The dump is rendered by the renderer every module's ApiDumpSpec uses (redsync-testkit's fixtures).
 */
class ApiDumpSpec : FunSpec({
    test("the public API matches api/redsync-core.api") {
        val dump = renderApi("io.redsync", "io.redsync.spi", "io.redsync.lettuce")
        dump shouldBe committedApi("api/redsync-core.api", dump)
    }

    test("no public type of the API packages lives in io.redsync.internal, and the dump covers the entry points") {
        val dump = renderApi("io.redsync", "io.redsync.spi", "io.redsync.lettuce")
        listOf("interface io.redsync.Redsync", "interface io.redsync.Mutex", "interface io.redsync.Lease",
            "final class io.redsync.LockOptions", "interface io.redsync.spi.LockNode").forEach {
            dump.contains(it) shouldBe true
        }
    }
})
