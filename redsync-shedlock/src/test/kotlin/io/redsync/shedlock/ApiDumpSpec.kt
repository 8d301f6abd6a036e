package io.redsync.shedlock

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.redsync.testkit.fixtures.renderApi
import java.io.File

/**
 * The public API is committed as text (api/redsync-shedlock.api), in redsync-core's format. Accept an intended
 * change with: mvn -pl redsync-shedlock -am test -Dtest=ApiDumpSpec -Dsurefire.failIfNoSpecifiedTests=false -Dapi.update=true
 */
class ApiDumpSpec : FunSpec({
    test("the public API matches api/redsync-shedlock.api") {
        val dump = renderApi("io.redsync.shedlock")
        val file = File("api/redsync-shedlock.api")
        if (System.getProperty("api.update") == "true") file.writeText(dump)
        dump shouldBe file.readText()
        dump shouldContain "final class io.redsync.shedlock.RedsyncLockProvider implements net.javacrumbs.shedlock.core.ExtensibleLockProvider"
    }
})
