package io.redsync.testkit

import io.kotest.assertions.nondeterministic.eventually
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.ints.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.File
import java.nio.file.Files
import java.time.Duration
import kotlin.time.Duration.Companion.seconds

/** The pids of this JVM's live child processes. */
private fun liveChildren(): Set<Long> =
    ProcessHandle.current().children().toList().map { it.pid() }.filterNot { isProcessGone(it) }.toSet()

class LifecycleSpec : FunSpec({

    test("close() kills every process and deletes every temp dir") {
        val redis = RedisNodes.start(3)
        val pids = redis.nodes().map { it.pid() }
        val dirs = redis.nodes().map { (it as ProcessNode).dir() }
        dirs.forEach { Files.isDirectory(it) shouldBe true }
        redis.node(1).pause() // a stopped process must be killed too
        redis.close()
        pids.filterNot { isProcessGone(it) }.shouldBeEmpty()
        dirs.filter { Files.exists(it) }.shouldBeEmpty()
        redis.nodes().forEach { shouldThrow<java.net.ConnectException> { connect(it.port()) } }
    }

    test("close() twice, or after nodes were killed and stopped, does not throw") {
        val redis = RedisNodes.start(2)
        redis.node(0).kill()
        redis.node(1).stop()
        redis.close()
        redis.close()
    }

    test("a node of closed RedisNodes refuses to restart, saying it is closed") {
        val redis = RedisNodes.start(1)
        redis.close()
        val e = shouldThrow<IllegalStateException> { redis.node(0).restart() }
        e.message shouldContain "closed"
        redis.node(0).isRunning() shouldBe false
    }

    test("nodes left open by a JVM that exits normally are killed by its shutdown hook") {
        val child = runChildJvm(OrphanMain::class.java.name, listOf("2"))
        withClue(child) {
            child.exitCode shouldBe 0
            val pids = child.stdout.lines().filter { it.startsWith("pid=") }.map { it.removePrefix("pid=").toLong() }
            pids shouldHaveSize 2
            child.stdout.lines().filter { it == "ping=PONG" } shouldHaveSize 2
            eventually(10.seconds) {
                pids.filterNot { isProcessGone(it) }.shouldBeEmpty()
            }
        }
    }

    test("process nodes work without Testcontainers on the classpath, and dockerAvailable() is false there") {
        val full = System.getProperty("java.class.path").split(File.pathSeparator)
        val classpath = full.filterNot { it.contains("testcontainers") || it.contains("docker-java") }
        withClue("the test classpath should contain Testcontainers, so that removing it means something") {
            classpath.size shouldBeLessThan full.size
        }
        val child = runChildJvm(OrphanMain::class.java.name, listOf("1", "docker"), classpath.joinToString(File.pathSeparator))
        withClue(child) {
            child.exitCode shouldBe 0
            child.stdout.lines() shouldContainLine "docker=false"
            child.stdout.lines() shouldContainLine "ping=PONG"
        }
    }

    test("a node that does not answer in time fails the start, naming node, port and log, and nothing is left running") {
        // A stand-in that starts, logs and never listens: the timeout path, deterministically.
        val fake = Files.createTempFile("redsync-testkit-fake-redis-", ".sh")
        try {
            Files.writeString(fake, "#!/bin/sh\necho \"fake redis-server got \$*\"\nexec sleep 60\n")
            fake.toFile().setExecutable(true)
            val before = liveChildren()
            val e = shouldThrow<IllegalStateException> {
                RedisNodes.builder().count(3).binary(fake).startupTimeout(Duration.ofMillis(300)).start()
            }
            e.message shouldContain "node 0 (127.0.0.1:"
            e.message shouldContain "did not answer PING within PT0.3S"
            e.message shouldContain "startupTimeout"
            e.message shouldContain "fake redis-server got --port" // the log tail
            (liveChildren() - before).shouldBeEmpty()
        } finally {
            Files.deleteIfExists(fake)
        }
    }

    test("a node that exits during startup fails the start with the end of its log") {
        val e = shouldThrow<IllegalStateException> {
            RedisNodes.builder().count(2).config("maxmemory-policy", "no-such-policy").start()
        }
        e.message shouldContain "node 0 (127.0.0.1:"
        e.message shouldContain "redis-server exited with code 1 during startup"
        e.message shouldContain "no-such-policy" // quoted by Redis' own FATAL CONFIG error in the log
    }
})

private infix fun List<String>.shouldContainLine(line: String) {
    withClue("expected a line '$line'") { this.contains(line) shouldBe true }
}
