package io.redsync.coroutines

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.redsync.testkit.fixtures.committedApi
import io.redsync.testkit.fixtures.renderApi

/**
 * The public API is committed as text (api/redsync-coroutines.api), in Kotlin terms: what a Kotlin user
 * can call (internal declarations, public in bytecode, are left out). A change to it is a design decision
 * that shows up in review. Rendered by the renderer every module's ApiDumpSpec uses (redsync-testkit's
 * fixtures). Accept an intended change with:
 * mvn -pl redsync-coroutines test -Dtest=ApiDumpSpec -Dapi.update=true
 */
class ApiDumpSpec : FunSpec({
    test("the public API matches api/redsync-coroutines.api") {
        val dump = renderApi("io.redsync.coroutines")
        dump shouldBe committedApi("api/redsync-coroutines.api", dump)
    }
})
