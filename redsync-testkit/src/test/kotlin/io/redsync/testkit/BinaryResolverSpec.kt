package io.redsync.testkit

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withTests
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import java.nio.file.Files
import java.nio.file.Path

class BinaryResolverSpec : FunSpec({
    val scratch: Path = Files.createTempDirectory("redsync-testkit-resolver-")
    afterSpec { Reaper.deleteRecursively(scratch) }

    test("REDIS_SERVER naming a missing file fails, naming the variable and the path") {
        val missing = scratch.resolve("no-such-redis-server")
        val e = shouldThrow<IllegalStateException> { BinaryResolver.resolve(mapOf("REDIS_SERVER" to missing.toString())) }
        e.message shouldContain "REDIS_SERVER"
        e.message shouldContain missing.toString()
        e.message shouldContain "does not exist"
    }

    test("REDIS_SERVER naming a file that is not executable fails, naming the variable and the path") {
        val notExecutable = Files.writeString(scratch.resolve("redis-server.txt"), "not a program")
        val e = shouldThrow<IllegalStateException> { BinaryResolver.resolve(mapOf("REDIS_SERVER" to notExecutable.toString())) }
        e.message shouldContain "REDIS_SERVER is set to $notExecutable, which is not an executable file"
    }

    test("REDIS_SERVER naming a working binary wins over the PATH") {
        val real = RedisNodes.binary().path()
        val binary = BinaryResolver.resolve(mapOf("REDIS_SERVER" to real.toString(), "PATH" to "/usr/bin:/bin"))
        binary.source() shouldBe "REDIS_SERVER"
        binary.path() shouldBe real
        binary.version() shouldBe RedisNodes.binary().version()
    }

    test("redis-server on the PATH is found when REDIS_SERVER is unset") {
        val dir = Files.createDirectories(scratch.resolve("bin"))
        val link = Files.createSymbolicLink(dir.resolve("redis-server"), RedisNodes.binary().path())
        val binary = BinaryResolver.resolve(mapOf("PATH" to "${scratch.resolve("empty")}:$dir"))
        binary.source() shouldBe "PATH"
        binary.path() shouldBe link
    }

    test("with nothing on the PATH the embedded-redis binary is extracted, and a node runs on it") {
        val embedded = BinaryResolver.resolve(mapOf("PATH" to ""))
        embedded.source() shouldBe "embedded-redis"
        embedded.version() shouldStartWith "6.2."
        Files.isExecutable(embedded.path()) shouldBe true
        RedisNodes.builder().binary(embedded.path()).start().use { redis ->
            redis.node(0).call("PING") shouldBe "PONG"
            (redis.node(0).call("INFO", "server") as String) shouldContain "redis_version:${embedded.version()}"
        }
    }

    test("the extracted binary is reused, not extracted again") {
        val first = BinaryResolver.resolve(mapOf("PATH" to "")).path()
        val modified = Files.getLastModifiedTime(first)
        val second = BinaryResolver.resolve(mapOf("PATH" to "")).path()
        second shouldBe first
        Files.getLastModifiedTime(second) shouldBe modified
    }

    test("when no source works the message says how to get a redis-server") {
        val e = shouldThrow<IllegalStateException> { BinaryResolver.resolve(mapOf("PATH" to ""), "Plan 9", "mips") }
        e.message shouldContain "no redis-server on the PATH"
        e.message shouldContain "embedded-redis ships no redis-server for Plan 9/mips"
        e.message shouldContain "apt-get install redis-server"
        e.message shouldContain "brew install redis"
        e.message shouldContain "set REDIS_SERVER"
        e.message shouldContain "RedisNodes.docker()"
    }

    test("builder().binary() with a path that is not executable fails before starting anything") {
        val e = shouldThrow<IllegalStateException> { RedisNodes.builder().binary(scratch.resolve("nothing")).start() }
        e.message shouldContain "is not an executable file"
    }

    context("the embedded binary is chosen by os.name and os.arch") {
        data class Row(val os: String, val arch: String, val resource: String?)
        withTests(
            nameFn = { r: Row -> "${r.os} / ${r.arch}" },
            ts = listOf(
                Row("Linux", "amd64", "redis-server-6.2.6-v5-linux-amd64"),
                Row("Linux", "x86_64", "redis-server-6.2.6-v5-linux-amd64"),
                Row("Linux", "aarch64", "redis-server-6.2.7-linux-arm64"),
                Row("Mac OS X", "x86_64", "redis-server-6.2.6-v5-darwin-amd64"),
                Row("Mac OS X", "aarch64", "redis-server-6.2.6-v5-darwin-arm64"),
                Row("Windows 11", "amd64", null),
                Row("Linux", "riscv64", null),
            ),
        ) { row: Row ->
            BinaryResolver.embeddedResourceName(row.os, row.arch) shouldBe row.resource
            if (row.resource != null) {
                (BinaryResolver::class.java.classLoader.getResource(row.resource) != null) shouldBe true
            }
        }
    }
})
