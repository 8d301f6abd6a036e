package io.redsync

import io.redsync.testkit.RedisNodes
import java.net.InetAddress
import java.net.ServerSocket
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * Throw-away certificates made with `openssl` for TLS specs: a CA, a server certificate it signed for
 * 127.0.0.1 and localhost, and an unrelated second CA (for "certificate not trusted").
 */
class TestCertificates private constructor(val dir: Path) {
    val caCert: Path = dir.resolve("ca.crt")
    val otherCaCert: Path = dir.resolve("other-ca.crt")
    val serverCert: Path = dir.resolve("server.crt")
    val serverKey: Path = dir.resolve("server.key")

    fun delete() {
        dir.toFile().deleteRecursively()
    }

    companion object {
        /** Why TLS specs cannot run here, or null when they can: openssl missing, or redis-server built without TLS. */
        val unavailableReason: String? by lazy { findUnavailableReason() }

        /** Makes the certificates in a new temp dir (EC P-256 keys: fast to generate, valid for 2 days). */
        fun create(): TestCertificates {
            val dir = Files.createTempDirectory("redsync-tls")
            val ec = arrayOf("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
            openssl(dir, "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=redsync test CA")
            openssl(dir, "req", "-x509", *ec, "-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "2", "-subj", "/CN=unrelated CA")
            openssl(dir, "req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
            Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
            openssl(dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.crt", "-days", "2", "-extfile", "san.ext")
            return TestCertificates(dir)
        }

        private fun openssl(dir: Path, vararg args: String) {
            val p = ProcessBuilder(listOf("openssl") + args).directory(dir.toFile()).redirectErrorStream(true).start()
            val output = p.inputStream.bufferedReader().readText()
            check(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) { "openssl ${args.joinToString(" ")} failed: $output" }
        }

        private fun findUnavailableReason(): String? {
            try {
                val p = ProcessBuilder("openssl", "version").redirectErrorStream(true).start()
                p.inputStream.readAllBytes()
                if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) return "openssl does not run"
            } catch (e: java.io.IOException) {
                return "openssl is not installed (${e.message})"
            }
            // A binary built without TLS refuses the tls-* directives at startup.
            val certs = create()
            try {
                startTlsNode(certs).close()
            } catch (e: IllegalStateException) {
                return "redis-server ${RedisNodes.binary().version()} (${RedisNodes.binary().path()}) does not start with TLS " +
                    "directives, likely built without TLS: ${e.message?.lines()?.take(3)?.joinToString(" | ")}"
            } finally {
                certs.delete()
            }
            return null
        }
    }
}

/** A free 127.0.0.1 port right now (another process may take it later; good enough for a test node). */
fun freePort(): Int = ServerSocket(0, 1, InetAddress.getLoopbackAddress()).use { it.localPort }

/** A node with both its plain port (the testkit's own client uses it) and a TLS-only [TlsNode.tlsPort]. */
class TlsNode(val nodes: RedisNodes, val tlsPort: Int) : AutoCloseable {
    val node get() = nodes.node(0)
    val tlsUri get() = "rediss://127.0.0.1:$tlsPort"
    override fun close() = nodes.close()
}

fun startTlsNode(certs: TestCertificates): TlsNode {
    val tlsPort = freePort()
    val nodes = RedisNodes.builder()
        .config("tls-port", tlsPort.toString())
        .config("tls-cert-file", certs.serverCert.toString())
        .config("tls-key-file", certs.serverKey.toString())
        .config("tls-ca-cert-file", certs.caCert.toString())
        .config("tls-auth-clients", "no")
        .start()
    return TlsNode(nodes, tlsPort)
}
