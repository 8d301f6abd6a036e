package io.redsync.micrometer

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.redsync.testkit.fixtures.renderApi
import java.io.File

/**
 * The public API is committed as text (api/redsync-micrometer.api); a change to it is a design decision that shows
 * up in review. Accept an intended change with:
 * mvn -pl redsync-micrometer -am test -Dtest=ApiDumpSpec -Dapi.update=true -Dsurefire.failIfNoSpecifiedTests=false
 */
class ApiDumpSpec : FunSpec({
    test("the public API matches api/redsync-micrometer.api") {
        val dump = renderApi("io.redsync.micrometer")
        val file = File("api/redsync-micrometer.api")
        if (System.getProperty("api.update") == "true") file.writeText(dump)
        dump shouldBe file.readText()
    }
})
