package io.redsync.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.ktor.client.request.get
import io.ktor.client.request.post
import io.ktor.client.statement.bodyAsText
import io.ktor.http.HttpHeaders
import io.ktor.http.HttpStatusCode
import io.ktor.server.testing.testApplication
import io.redsync.testkit.RedisNodes
import io.redsync.testkit.fixtures.nodesPerSpec
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlin.time.Duration.Companion.seconds

class KtorServiceSpec : FunSpec({
    val nodes = nodesPerSpec(3) {}

    test("the Ktor sample renders a report once at a time, serialises payments, and locks inside a handler") {
        testApplication {
            application { lockedService(nodes.uris(), renderTime = 2.seconds) }
            coroutineScope {
                val first = async { client.post("/reports/7") }
                // The first request holds shop:report:7 while it renders.
                kotlinx.coroutines.withTimeout(10.seconds) {
                    while (nodes.nodes().count { "shop:report:7" in it.keys() } < 2) kotlinx.coroutines.delay(5)
                }
                val second = client.post("/reports/7")
                second.status shouldBe HttpStatusCode.Conflict
                second.headers[HttpHeaders.RetryAfter]!!.toInt() shouldBeGreaterThanOrEqual 1
                first.await().bodyAsText() shouldBe "report 7 rendered"
            }
            val payments = coroutineScope { (1..3).map { async { client.post("/invoices/9/pay") } }.map { it.await() } }
            payments.forEach { it.status shouldBe HttpStatusCode.OK }
            client.get("/stock/abc").bodyAsText() shouldContain "12 in stock"
        }
        nodes.nodes().sumOf { it.keys().size } shouldBe 0
    }
})
