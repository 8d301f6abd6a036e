package io.redsync.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.ByteArrayOutputStream
import java.io.PrintStream
import java.nio.file.Files
import java.time.Duration

class DemoSpec : FunSpec({
    val dir = Files.createTempDirectory("redsync-demo-spec")

    test("the demo passes every check with a node killed midway, and draws its timeline") {
        val output = ByteArrayOutputStream()
        val demo = Demo(PrintStream(output, true), 4, 6, Duration.ofMillis(10), Duration.ofMillis(30), dir)
        val ok = LocalNodes.fromEnvironmentOrStart(3).use { nodes ->
            val result = demo.run(nodes)
            nodes.local().get().lockKeys().shouldBeEmpty()
            result
        }
        val text = output.toString()
        ok shouldBe true
        text shouldContain "worker 1 has the lock, fencing token"
        text shouldContain "node 2 killed (kill -9): 2 of 3 nodes left"
        text shouldContain "node 2 restarted"
        text shouldContain "| shared counter (must equal the sections)     | 24  ok"
        text shouldContain "| overlapping critical sections                | 0  ok"
        text shouldContain "| fencing tokens strictly increasing           | yes,"
        text shouldContain "keeper interrupted"
        text shouldContain "LeaseLostException"
        text shouldContain "OK: the counter is exact"

        val picture = demo.picture().get()
        text shouldContain "timeline: ${picture.toAbsolutePath()}"
        val png = Files.readAllBytes(picture)
        png.size shouldBeGreaterThan 10_000
        png.copyOfRange(1, 4).decodeToString() shouldBe "PNG"
    }

    test("without a usable redis-server the demo says how to get one, and how to use Docker instead") {
        val child = startJvm(Demo::class.java.name, env = mapOf("REDIS_SERVER" to "/nonexistent/redis-server"), dir = dir)
        val finished = child.finish()
        finished.exitCode shouldBe 2
        finished.stderr shouldContain "Cannot start local Redis nodes: REDIS_SERVER is set to /nonexistent/redis-server"
        finished.stderr shouldContain "sudo apt-get install redis-server"
        finished.stderr shouldContain "brew install redis"
        finished.stderr shouldContain "docker run -d --rm -p \$port:6379 redis:7"
        finished.stderr shouldContain "export REDSYNC_NODES=redis://localhost:6379,redis://localhost:6380,redis://localhost:6381"
    }
})
