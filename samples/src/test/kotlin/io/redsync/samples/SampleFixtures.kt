package io.redsync.samples

import io.redsync.testkit.RedisNodes
import java.io.ByteArrayOutputStream
import java.io.File
import java.io.PrintStream
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/** Runs [block] with System.out captured; returns what it printed. Specs run one at a time. */
fun captureStdout(block: () -> Unit): String {
    val previous = System.out
    val output = ByteArrayOutputStream()
    System.setOut(PrintStream(output, true))
    try {
        block()
    } finally {
        System.setOut(previous)
    }
    return output.toString()
}

/** Lock keys left on the running nodes; fencing counters (`{name}:fence`) are meant to stay. */
fun RedisNodes.lockKeys(): List<String> =
    nodes().filter { it.isRunning }.flatMap { it.keys() }.filterNot { it.endsWith(":fence") }

/** What a child JVM did. */
data class Finished(val exitCode: Int, val stdout: String, val stderr: String)

/** A JVM started by [startJvm], its output going to files. */
class Child(val process: Process, private val out: File, private val err: File) {
    /** What it printed so far. */
    fun stdout(): String = out.readText()

    /** Sends a signal: "KILL", "STOP", "CONT", "TERM". */
    fun signal(name: String) {
        ProcessBuilder("kill", "-$name", process.pid().toString()).start().waitFor()
    }

    /** Waits for the JVM to exit and reads what it printed. */
    fun finish(timeoutSeconds: Long = 60): Finished {
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            error("child JVM did not finish within $timeoutSeconds s; it printed: ${out.readText()} ${err.readText()}")
        }
        return Finished(process.exitValue(), out.readText(), err.readText())
    }
}

/**
 * Starts `java -cp <this test classpath> <mainClass> <args>` with extra [env], as a separate process
 * (Surefire sets java.class.path to the test classpath in its fork). Does not wait.
 */
fun startJvm(mainClass: String, args: List<String> = emptyList(), env: Map<String, String> = emptyMap(), dir: Path): Child {
    val java = File(System.getProperty("java.home"), "bin/java").path
    val name = "${mainClass.substringAfterLast('.')}-${System.nanoTime()}"
    val out = dir.resolve("$name.out").toFile()
    val err = dir.resolve("$name.err").toFile()
    // C1 only and the serial collector: these JVMs live for seconds, so start-up is what counts.
    val jvm = listOf(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"))
    val process = ProcessBuilder(jvm + mainClass + args)
        .redirectOutput(out)
        .redirectError(err)
        .apply { environment().putAll(env) }
        .start()
    return Child(process, out, err)
}
