package io.redsync

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.string.shouldContain
import io.redsync.testkit.RedisNodes
import java.io.File
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess

/**
 * `close()` gives back Lettuce's shared threads even when shutting down the client it made throws (issue 14 item 5).
 * A thread whose interrupt flag is set (a worker told to stop, closing its instance on the way out) makes Lettuce's
 * blocking client shutdown throw at once; before, that skipped the release of the shared resources, so their
 * threads ran until the JVM exited. Runs in a child JVM, where no other instance shares the resources.
 */
class InterruptedCloseSpec : FunSpec({
    val nodes = RedisNodes.start(1)
    afterSpec { nodes.close() }

    test("close() on an interrupted thread: no exception, the interrupt flag kept, no Lettuce thread left") {
        val output = InterruptedCloseChild.run(nodes.node(0).uri())
        withClue(output) {
            output shouldContain "close: returned"
            output shouldContain "interrupt flag: kept"
            output shouldContain "lettuce threads left: 0"
        }
    }
})

/** The child JVM: locks once through a URI-built instance, then closes it on an interrupted thread. */
object InterruptedCloseChild {
    @JvmStatic
    fun main(args: Array<String>) {
        val redsync = Redsync.builder().uri(args[0]).build()
        redsync.lock("interrupted-close").release()
        Thread.currentThread().interrupt()
        val outcome = runCatching { redsync.close() }
        println(outcome.fold({ "close: returned" }, { "close: threw $it" }))
        println("interrupt flag: " + if (Thread.interrupted()) "kept" else "cleared")
        // The shared resources shut down in the background once the last instance closed.
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20)
        while (lettuceThreads().isNotEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50)
        }
        println("lettuce threads left: ${lettuceThreads().size} ${lettuceThreads()}")
        exitProcess(0)
    }

    private fun lettuceThreads() = Thread.getAllStackTraces().keys.filter { it.isAlive && it.name.startsWith("lettuce") }.map { it.name }

    fun run(uri: String): String {
        val java = File(System.getProperty("java.home"), "bin/java").path
        val out = File.createTempFile("close-child", ".out")
        try {
            val process = ProcessBuilder(java, "-Xmx256m", "-Dio.lettuce.core.epoll=false", "-cp", System.getProperty("java.class.path"),
                InterruptedCloseChild::class.java.name, uri)
                .redirectErrorStream(true).redirectOutput(out).start()
            check(process.waitFor(2, TimeUnit.MINUTES)) { process.destroyForcibly(); "child JVM did not finish: ${out.readText().takeLast(3000)}" }
            return out.readText()
        } finally {
            out.delete()
        }
    }
}
