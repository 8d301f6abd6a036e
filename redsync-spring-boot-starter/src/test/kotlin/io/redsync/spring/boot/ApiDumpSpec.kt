package io.redsync.spring.boot

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.redsync.testkit.fixtures.renderApi
import java.io.File

/**
 * The public API is committed as text (api/redsync-spring-boot-starter.api), in redsync-core's format. Accept an intended
 * change with: mvn -pl redsync-spring-boot-starter -am test -Dtest=ApiDumpSpec -Dsurefire.failIfNoSpecifiedTests=false -Dapi.update=true
 */
class ApiDumpSpec : FunSpec({
    test("the public API matches api/redsync-spring-boot-starter.api") {
        val dump = renderApi("io.redsync.spring.boot")
        val file = File("api/redsync-spring-boot-starter.api")
        if (System.getProperty("api.update") == "true") file.writeText(dump)
        dump shouldBe file.readText()
        dump shouldContain "interface io.redsync.spring.boot.RedsyncBuilderCustomizer"
    }
})
