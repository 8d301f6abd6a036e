package io.redsync.safety

import java.io.File
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess

/**
 * A child JVM of a multi-process safety run: runs [Workload] clients until a shared deadline and writes their
 * history to a file. Arguments: node URIs (comma-separated), lock names (comma-separated), client threads,
 * stop time (a System.nanoTime value: CLOCK_MONOTONIC is shared by every process on the machine), seed,
 * history file. Exits early if its parent dies, so an aborted test run leaves no client behind.
 */
object SafetyClientMain {
    @JvmStatic
    fun main(args: Array<String>) {
        require(args.size == 6) { "usage: uris names threads stopAtNanos seed historyFile" }
        val uris = args[0].split(',')
        val workload = Workload(args[1].split(','))
        val threads = args[2].toInt()
        val stopAt = args[3].toLong()
        val seed = args[4].toLong()
        val parent = ProcessHandle.current().parent()
        val parentAlive = { parent.map { it.isAlive }.orElse(false) }
        val redsyncs = (0 until (threads + 1) / 2).map { SafetyOptions.redsync(uris) }
        val pid = ProcessHandle.current().pid()
        val workers = (0 until threads).map { t ->
            Thread { workload.client("jvm$pid-c$t", redsyncs[t / 2], seed * 31 + t, stopAt, parentAlive) }.apply { start() }
        }
        workers.forEach { it.join(TimeUnit.NANOSECONDS.toMillis(stopAt - System.nanoTime()) + 30_000) }
        redsyncs.forEach { it.close() }
        HistoryFile.write(File(args[5]), workload.sections)
        println("pid $pid: ${workload.sections.size} sections, ${workload.failedLocks.get()} failed lock calls")
        exitProcess(if (workers.any { it.isAlive }) 2 else 0)
    }
}

/** Child JVMs running [SafetyClientMain], killed (even when SIGSTOPped) if the parent gives up on them. */
class ChildClients(private val count: Int, uris: List<String>, names: List<String>, threads: Int, stopAt: Long, seed: Long) : AutoCloseable {
    private val dir = kotlin.io.path.createTempDirectory("redsync-safety").toFile()
    val histories = (0 until count).map { File(dir, "history-$it.tsv") }
    val processes: List<Process> = (0 until count).map { i ->
        val java = File(System.getProperty("java.home"), "bin/java").path
        ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"), SafetyClientMain::class.java.name,
            uris.joinToString(","), names.joinToString(","), threads.toString(), stopAt.toString(), (seed + i).toString(), histories[i].path)
            .redirectOutput(File(dir, "child-$i.out"))
            .redirectError(File(dir, "child-$i.err"))
            .start()
    }

    /** Waits for every child to exit 0 and returns their merged histories; fails naming the child and its output otherwise. */
    fun await(timeoutMillis: Long): List<Section> {
        processes.forEachIndexed { i, p ->
            val exited = p.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)
            check(exited && p.exitValue() == 0) {
                "child JVM $i ${if (exited) "exited with ${p.exitValue()}" else "did not exit in time"}: " +
                    File(dir, "child-$i.err").readText().takeLast(3000)
            }
        }
        return histories.flatMap { HistoryFile.read(it) }
    }

    /** SIGSTOPs a child for [millis], then SIGCONTs it: every thread stops, keep-alive included, as in a long GC pause. */
    fun pause(index: Int, millis: Long) {
        val pid = processes[index].pid().toString()
        ProcessBuilder("kill", "-STOP", pid).start().waitFor()
        try {
            Thread.sleep(millis)
        } finally {
            ProcessBuilder("kill", "-CONT", pid).start().waitFor()
        }
    }

    override fun close() {
        processes.forEach { if (it.isAlive) it.destroyForcibly() }
        processes.forEach { it.waitFor(10, TimeUnit.SECONDS) }
        dir.deleteRecursively()
    }
}
