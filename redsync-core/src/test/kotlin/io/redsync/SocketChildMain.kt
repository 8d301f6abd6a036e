package io.redsync

import java.io.File
import java.time.Duration
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess

/**
 * A child JVM for [UnixSocketSpec], so that whether Lettuce may use epoll is set per process
 * (`-Dio.lettuce.core.epoll`; the test JVM itself runs with it off, as a user without
 * `netty-transport-native-epoll` would). Arguments: the `redis-socket://` URI, then a `redis://` URI of a TCP
 * node. Locks through the socket node and prints `socket: ok` or `socket: failed: <message>` (or `build failed`),
 * then locks through the TCP node, closes every instance and prints how many Lettuce threads are still alive once
 * the shared resources had time to stop (`lettuce threads left: N`).
 */
object SocketChildMain {
    @JvmStatic
    fun main(args: Array<String>) {
        val options = LockOptions.builder().tries(1).nodeTimeout(Duration.ofSeconds(5)).build()
        try {
            Redsync.builder().uri(args[0]).defaults(options).build().use { redsync ->
                val outcome = runCatching { redsync.lock("over-socket").release() }
                println(outcome.fold({ "socket: ok" }, { "socket: failed: ${it.message?.lines()?.first()}" }))
            }
        } catch (e: Exception) {
            println("socket: build failed: $e")
        }
        Redsync.builder().uri(args[1]).defaults(options).build().use { it.lock("over-tcp").release() }
        // The shared resources shut down in the background once the last instance closed.
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20)
        while (lettuceThreads() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50)
        }
        println("lettuce threads left: ${lettuceThreads()} ${Thread.getAllStackTraces().keys.map { it.name }.filter { it.startsWith("lettuce") }}")
        exitProcess(0)
    }

    private fun lettuceThreads() = Thread.getAllStackTraces().keys.count { it.isAlive && it.name.startsWith("lettuce") }

    /** Runs this main in a child JVM with Lettuce's epoll support on or off; returns its output. */
    fun runChild(epoll: Boolean, socketUri: String, tcpUri: String): String {
        val java = File(System.getProperty("java.home"), "bin/java").path
        val out = File.createTempFile("socket-child", ".out")
        try {
            val process = ProcessBuilder(java, "-Xmx256m", "-Dio.lettuce.core.epoll=$epoll", "-cp", System.getProperty("java.class.path"),
                SocketChildMain::class.java.name, socketUri, tcpUri)
                .redirectErrorStream(true).redirectOutput(out).start()
            check(process.waitFor(2, TimeUnit.MINUTES)) { process.destroyForcibly(); "child JVM did not finish: ${out.readText().takeLast(3000)}" }
            return out.readText()
        } finally {
            out.delete()
        }
    }
}
