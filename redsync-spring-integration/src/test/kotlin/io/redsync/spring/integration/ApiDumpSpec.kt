package io.redsync.spring.integration

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.redsync.testkit.fixtures.renderApi
import java.io.File

/**
 * The public API is committed as text (api/redsync-spring-integration.api), in redsync-core's format. Accept an intended
 * change with: mvn -pl redsync-spring-integration -am test -Dtest=ApiDumpSpec -Dsurefire.failIfNoSpecifiedTests=false -Dapi.update=true
 */
class ApiDumpSpec : FunSpec({
    test("the public API matches api/redsync-spring-integration.api") {
        val dump = renderApi("io.redsync.spring.integration")
        val file = File("api/redsync-spring-integration.api")
        if (System.getProperty("api.update") == "true") file.writeText(dump)
        dump shouldBe file.readText()
        dump shouldContain "final class io.redsync.spring.integration.RedsyncLockRegistry implements org.springframework.integration.support.locks.ExpirableLockRegistry<org.springframework.integration.support.locks.DistributedLock>"
    }
})
