package io.redsync.testkit

import java.io.File
import java.net.InetSocketAddress
import java.net.Socket
import java.nio.file.Files
import java.nio.file.Paths
import java.util.concurrent.TimeUnit

/**
 * True when no live process has this pid. A zombie (exited, not yet reaped by its parent) counts as gone:
 * it holds no port and runs no code, and PID 1 in some containers never reaps.
 */
fun isProcessGone(pid: Long): Boolean {
    val handle = ProcessHandle.of(pid)
    if (handle.isEmpty || !handle.get().isAlive) return true
    val stat = Paths.get("/proc", pid.toString(), "stat")
    val content = runCatching { Files.readString(stat) }.getOrNull() ?: return false
    val state = content.substring(content.lastIndexOf(')') + 2).first()
    return state == 'Z' || state == 'X'
}

/** Opens and closes a TCP connection; throws (e.g. ConnectException) when nothing listens on the port. */
fun connect(port: Int) {
    Socket().use { it.connect(InetSocketAddress("127.0.0.1", port), 1_000) }
}

class ChildResult(val exitCode: Int, val stdout: String, val stderr: String) {
    override fun toString() = "exit code $exitCode\n--- stdout\n$stdout\n--- stderr\n$stderr"
}

/**
 * Runs [mainClass] in a new JVM with the same java binary and (unless [classpath] is given) the same
 * classpath as this one, with [jvmArgs] before the class path, waiting at most [timeoutSeconds]. Output goes
 * to files, so a chatty child cannot block on a full pipe and a hung one cannot hang the test.
 */
fun runChildJvm(
    mainClass: String,
    args: List<String> = emptyList(),
    classpath: String = System.getProperty("java.class.path"),
    env: Map<String, String> = emptyMap(),
    timeoutSeconds: Long = 60,
    jvmArgs: List<String> = emptyList(),
): ChildResult {
    val java = ProcessHandle.current().info().command().orElseThrow { IllegalStateException("cannot tell this JVM's java binary") }
    val out = File.createTempFile("redsync-testkit-child", ".out")
    val err = File.createTempFile("redsync-testkit-child", ".err")
    try {
        val builder = ProcessBuilder(listOf(java) + jvmArgs + listOf("-cp", classpath, mainClass) + args)
            .redirectOutput(out)
            .redirectError(err)
        builder.environment().putAll(env)
        val process = builder.start()
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            error("child JVM $mainClass did not exit within $timeoutSeconds s; stderr:\n${err.readText()}")
        }
        return ChildResult(process.exitValue(), out.readText(), err.readText())
    } finally {
        out.delete()
        err.delete()
    }
}
