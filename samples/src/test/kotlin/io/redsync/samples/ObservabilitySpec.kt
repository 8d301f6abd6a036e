package io.redsync.samples

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThanOrEqual
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.io.ByteArrayOutputStream
import java.io.PrintStream
import java.nio.file.Files
import java.time.Duration
import javax.imageio.ImageIO

class ObservabilitySpec : FunSpec({
    test("Observability: contended locks, a lost lease and a killed node show in the Prometheus text; the chart is drawn") {
        System.setProperty("java.awt.headless", "true")
        val dir = Files.createTempDirectory("observability")
        val printed = ByteArrayOutputStream()
        val result = LocalNodes.fromEnvironmentOrStart(3).use { nodes ->
            Observability.run(nodes, Duration.ofSeconds(6), dir.resolve("chart.png"), PrintStream(printed, true))
        }
        val text = result.prometheusText()
        text shouldContain "# TYPE redsync_lock_acquire_seconds histogram"
        text shouldContain Regex("""redsync_lock_acquire_seconds_count\{lock="report",outcome="granted"} \d+""")
        text shouldContain Regex("""redsync_lock_acquire_seconds_count\{lock="invoice",outcome="granted"} \d+""")
        text shouldContain "redsync_lock_waiters "
        text shouldContain "redsync_lease_active "
        // Refused when the keeper sees the keys gone; unreachable if a loaded machine delays its extensions past the margin.
        text shouldContain Regex("""redsync_lease_lost_total\{lock="export",reason="(refused|unreachable)"} 1.0""")
        text shouldContain Regex("""redsync_node_calls_seconds_count\{node="[^"]+",operation="acquire",outcome="error",reason="unreachable"} \d+""")
        text shouldContain Regex("""redsync_lock_attempts_count\{lock="report",outcome="granted"} \d+""")
        text shouldNotContain "report:daily" // lock names are tagged by prefix only
        result.granted() shouldBeGreaterThan 20L
        result.nodeErrors() shouldBeGreaterThan 0L
        result.leasesLost() shouldBeGreaterThanOrEqual 1.0
        printed.toString() shouldContain "locks granted;"
        // Every series the Grafana dashboard queries is one the sample exports (buckets: the histogram's TYPE line).
        val dashboard = java.io.File("../docs/grafana-redsync.json").readText()
        val queried = Regex("redsync_[a-z_]+").findAll(dashboard).map { it.value.removeSuffix("_bucket") }.toSet()
        queried.size shouldBeGreaterThan 6
        queried.forEach { text shouldContain it }
        val image = ImageIO.read(result.chart().toFile())
        image.width shouldBe 1200
        image.height shouldBe 4 * 260
    }
})
