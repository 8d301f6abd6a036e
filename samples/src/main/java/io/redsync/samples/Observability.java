package io.redsync.samples;

// region README observability
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.redsync.Redsync;
import io.redsync.micrometer.LockNameTag;
import io.redsync.micrometer.RedsyncMetrics;
// endregion
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.search.Search;
import io.redsync.KeepAlive;
import io.redsync.Lease;
import io.redsync.LockOptions;
import io.redsync.RetryDelay;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * Observability (issue 20): six workers contend for a few locks while one node is killed and restarted and a kept
 * lease is lost; {@code redsync-micrometer} meters everything into a Prometheus registry. Prints the Prometheus
 * text of the {@code redsync_*} meters (what a scrape returns) and draws what a dashboard would show over the run
 * (acquire latency p50/p99, waiters, leases lost, node errors) as a PNG: {@code docs/observability.png} comes from
 * {@code -Dexec.args=docs/observability.png} (run from the repository root). The Grafana dashboard for the same meters is
 * {@code docs/grafana-redsync.json}.
 */
public final class Observability {
    private static final int WORKERS = 6;

    private Observability() {
    }

    /** What the run saw, for the spec. */
    record Result(String prometheusText, Path chart, long granted, long nodeErrors, double leasesLost) {
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path chart = args.length > 0 ? Path.of(args[0])
                : Path.of(System.getProperty("redsync.demo.dir", "target"), "redsync-observability.png");
        try (LocalNodes nodes = LocalNodes.fromEnvironmentOrStart(3)) {
            Result result = run(nodes, Duration.ofSeconds(12), chart, System.out);
            System.out.println("chart: " + result.chart().toAbsolutePath());
        }
        System.exit(0);
    }

    static Result run(LocalNodes nodes, Duration length, Path chartFile, PrintStream out) throws Exception {
        // region README observability
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Redsync redsync = Redsync.builder()
                .uris(nodes.uris())
                .listener(RedsyncMetrics.builder(registry).lockNameTag(LockNameTag.prefix(":")).build())
                .build();
        // ... lock as usual; then serve registry.scrape() at /metrics for Prometheus.
        // endregion
        // Buckets for Prometheus's histogram_quantile (the dashboard), and client-side p50/p99 over a short window for
        // the chart drawn here.
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (!id.getName().equals("redsync.lock.acquire")) {
                    return config;
                }
                return DistributionStatisticConfig.builder().percentilesHistogram(true).percentiles(0.5, 0.99)
                        .expiry(Duration.ofSeconds(1)).bufferLength(2).build().merge(config);
            }
        });
        long lengthNanos = length.toNanos();
        long start = System.nanoTime();
        AtomicBoolean stop = new AtomicBoolean();
        LockOptions contended = LockOptions.builder().retryDelay(RetryDelay.uniform(Duration.ofMillis(10), Duration.ofMillis(40)))
                .tries(Integer.MAX_VALUE).acquireTimeout(Duration.ofSeconds(30)).build();
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
            int worker = w;
            Thread t = new Thread(() -> {
                int n = 0;
                while (!stop.get()) {
                    // Most work queues on one report lock; some on per-invoice locks (one tag value: "invoice").
                    String name = n++ % 3 == 0 ? "invoice:" + worker + "-" + n : "report:daily";
                    try (Lease lease = redsync.lock(name, contended)) {
                        Thread.sleep(15);
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        // A failed or busy call is what the meters show; the worker carries on.
                    }
                }
            }, "worker-" + w);
            t.start();
            workers.add(t);
        }

        List<double[]> samples = new ArrayList<>(); // seconds, p50 ms, p99 ms, waiters, leases lost, node errors
        double killedAt = -1;
        double restartedAt = -1;
        boolean lostDone = false;
        java.util.concurrent.CompletableFuture<Lease> kept = null;
        while (System.nanoTime() - start < lengthNanos) {
            double t = (System.nanoTime() - start) / 1e9;
            double fraction = (System.nanoTime() - start) / (double) lengthNanos;
            if (kept == null && fraction >= 0.1) {
                // Asynchronously: this loop keeps sampling meanwhile.
                kept = redsync.lockAsync("export:nightly", LockOptions.builder().expiry(Duration.ofSeconds(3))
                        .keepAlive(KeepAlive.defaults()).build()).thenApply(Lease::keepAlive);
            }
            if (kept != null && kept.isDone() && !lostDone && fraction >= 0.25) {
                nodes.deleteEverywhere("export:nightly"); // an operator's DEL: the keeper declares the lease lost
                lostDone = true;
            }
            if (killedAt < 0 && fraction >= 0.4 && nodes.node(2).isPresent()) {
                nodes.node(2).get().kill();
                killedAt = t;
            }
            if (killedAt >= 0 && restartedAt < 0 && fraction >= 0.7) {
                nodes.node(2).get().restart();
                restartedAt = t;
            }
            samples.add(new double[] {t, percentileMs(registry, 0.5), percentileMs(registry, 0.99),
                    registry.get("redsync.lock.waiters").gauge().value(), sumCounters(registry, "redsync.lease.lost"),
                    Search.in(registry).name("redsync.node.calls").tag("outcome", "error").timers().stream()
                            .mapToDouble(Timer::count).sum()});
            Thread.sleep(100);
        }
        stop.set(true);
        for (Thread t : workers) {
            t.join(TimeUnit.SECONDS.toMillis(40));
        }
        if (kept != null) {
            try {
                kept.join().release();
            } catch (RuntimeException e) {
                // Lost: its keys were deleted, as intended.
            }
        }
        redsync.close();

        String text = registry.scrape().lines().filter(l -> l.startsWith("redsync_") || l.startsWith("# TYPE redsync_"))
                .filter(l -> !l.contains("_bucket{")) // the histogram's buckets: many lines, for Prometheus only
                .collect(Collectors.joining("\n"));
        out.println(text);
        long granted = Search.in(registry).name("redsync.lock.acquire").tag("outcome", "granted").timers().stream()
                .mapToLong(Timer::count).sum();
        double[] last = samples.get(samples.size() - 1);
        out.printf(Locale.ROOT, "%d locks granted; %d node errors (node 2 killed at %.1f s, restarted at %.1f s); %.0f lease lost%n",
                granted, (long) last[5], killedAt, restartedAt, last[4]);
        Path written = draw(chartFile, samples, killedAt, restartedAt);
        return new Result(text, written, granted, (long) last[5], last[4]);
    }

    private static double percentileMs(PrometheusMeterRegistry registry, double percentile) {
        Timer timer = Search.in(registry).name("redsync.lock.acquire").tag("outcome", "granted").timer();
        if (timer == null) {
            return 0;
        }
        for (ValueAtPercentile v : timer.takeSnapshot().percentileValues()) {
            if (v.percentile() == percentile) {
                return v.value(TimeUnit.MILLISECONDS);
            }
        }
        return 0;
    }

    private static double sumCounters(PrometheusMeterRegistry registry, String name) {
        return Search.in(registry).name(name).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    /** Four panels, as the Grafana dashboard has them, stacked in one PNG. */
    private static Path draw(Path file, List<double[]> samples, double killedAt, double restartedAt) throws IOException {
        double[] x = samples.stream().mapToDouble(s -> s[0]).toArray();
        List<XYChart> panels = List.of(
                panel("Acquire latency (granted, ms; 1 s window)", x, samples, new String[] {"p50", "p99"}, new int[] {1, 2}, killedAt, restartedAt),
                panel("Waiters (lock calls in progress)", x, samples, new String[] {"waiters"}, new int[] {3}, killedAt, restartedAt),
                panel("Leases lost (total)", x, samples, new String[] {"lost"}, new int[] {4}, killedAt, restartedAt),
                panel("Node errors (total)", x, samples, new String[] {"errors"}, new int[] {5}, killedAt, restartedAt));
        int width = 1200;
        int height = 260;
        BufferedImage image = new BufferedImage(width, height * panels.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        for (int i = 0; i < panels.size(); i++) {
            g.drawImage(BitmapEncoder.getBufferedImage(panels.get(i)), 0, i * height, null);
        }
        g.dispose();
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        ImageIO.write(image, "png", file.toFile());
        return file;
    }

    private static XYChart panel(String title, double[] x, List<double[]> samples, String[] names, int[] columns,
                                 double killedAt, double restartedAt) {
        XYChart chart = new XYChart(1200, 260);
        chart.setTitle(title);
        chart.setXAxisTitle("seconds (node 2 down between the red lines)");
        var styler = chart.getStyler();
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        styler.setMarkerSize(0);
        styler.setXAxisMin(0.0);
        styler.setYAxisMin(0.0);
        styler.setAnnotationLineColor(new Color(0xD62728));
        for (int i = 0; i < names.length; i++) {
            int column = columns[i];
            XYSeries series = chart.addSeries(names[i], x, samples.stream().mapToDouble(s -> s[column]).toArray());
            series.setMarker(SeriesMarkers.NONE);
        }
        for (double at : new double[] {killedAt, restartedAt}) {
            if (at >= 0) {
                chart.addAnnotation(new AnnotationLine(at, true, false));
            }
        }
        return chart;
    }
}
