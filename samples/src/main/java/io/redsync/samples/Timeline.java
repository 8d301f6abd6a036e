package io.redsync.samples;

import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.font.FontRenderContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The demo's picture: one lane per worker with a bar for each time it held the lock (its fencing token
 * written on the bar), a lane for the nodes (down while killed), and a lane for the kept-alive lease that
 * was lost. Drawn with XChart as thick line segments on an XY chart; if no two bars in the worker lanes
 * overlap in time, mutual exclusion held.
 */
final class Timeline {
    /** One critical section: who held the lock, when (seconds since the start), with which token. */
    record Bar(int worker, double from, double to, long token) {
    }

    /** A span in the nodes lane, e.g. "node 2 down". */
    record Outage(String label, double from, double to) {
    }

    /** The kept-alive lease that was lost: held from..lostAt, keys deleted at keysDeletedAt, believed valid until. */
    record LostLease(double from, double keysDeletedAt, double lostAt, double believedUntil, String reason) {
    }

    // Mid-tone colours that black text reads well on, one per worker (cycled past eight).
    private static final Color[] PALETTE = {
        new Color(0x8EC5FF), new Color(0xFFB870), new Color(0x9BE39B), new Color(0xF4A3A3),
        new Color(0xC9B3F2), new Color(0xE6C79C), new Color(0xF5B3DE), new Color(0xB8D86B),
    };
    private static final int WIDTH = 1800;
    private static final int LANE_PIXELS = 56;
    private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 13);
    private static final Color DOWN = new Color(0xD62728);
    private static final Color EVENT = new Color(0x444444);
    private static final Color KEPT = new Color(0xA0A0A0);
    private static final Color BELIEVED = new Color(0xE0E0E0);

    private Timeline() {
    }

    /**
     * Draws the timeline and writes it as a PNG.
     *
     * @return the file written
     */
    static Path write(Path file, String title, int workers, List<Bar> bars, List<Outage> outages, LostLease lost)
            throws IOException {
        int nodesLane = workers + 1;
        int keeperLane = 0;
        double end = bars.stream().mapToDouble(Bar::to).max().orElse(1);
        for (Outage o : outages) {
            end = Math.max(end, o.to());
        }
        String believedLabel = "validity it would have gone on using";
        double xMax = Math.ceil(end);
        if (lost != null) {
            end = Math.max(end, lost.believedUntil());
            // Room right of the light bar for its label: estimate pixels per second on the final axis.
            double secondsPerPixel = Math.ceil(end + 1) / (WIDTH - 200);
            xMax = lost.believedUntil() + (textWidth(believedLabel) + 30) * secondsPerPixel;
        }
        xMax = Math.max(xMax, end + 0.1);

        XYChart chart = new XYChart(WIDTH, 150 + LANE_PIXELS * (workers + 3));
        chart.setTitle(title);
        chart.setXAxisTitle("seconds since the workers started");
        var styler = chart.getStyler();
        styler.setLegendVisible(false);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setPlotGridHorizontalLinesVisible(false);
        styler.setPlotGridLinesColor(new Color(0xE4E4E4));
        styler.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        styler.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 15));
        styler.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 15));
        styler.setAnnotationTextFont(LABEL_FONT);
        styler.setAnnotationTextFontColor(Color.BLACK);
        styler.setMarkerSize(0);
        styler.setXAxisMin(0.0);
        styler.setXAxisMax(xMax);
        // One tick per lane: integer bounds, and a spacing hint near the lane height so the step is 1.
        styler.setYAxisMin(-1.0);
        styler.setYAxisMax(nodesLane + 1.0);
        styler.setYAxisTickMarkSpacingHint(LANE_PIXELS);
        styler.setyAxisTickLabelsFormattingFunction(y -> laneName(y, workers, lost != null));
        // Bars are line segments: butt caps, so a bar ends exactly where the section ended.
        BasicStroke bar = new BasicStroke(34f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER);
        BasicStroke thin = new BasicStroke(12f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER);
        BasicStroke dashed = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 6f}, 0f);

        chart.addAnnotation(new AnnotationText(
                "a bar = one time a worker held the lock; the number on it = its fencing token; dashed = node killed / restarted",
                xMax / 2, nodesLane + 0.6, false));

        // One series per worker, its sections separated by NaN (XChart breaks the line there).
        for (int w = 1; w <= workers; w++) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (Bar b : bars) {
                if (b.worker() == w) {
                    xs.add(b.from());
                    ys.add((double) w);
                    xs.add(b.to());
                    ys.add((double) w);
                    xs.add(b.to());
                    ys.add(Double.NaN);
                    chart.addAnnotation(new AnnotationText(Long.toString(b.token()), (b.from() + b.to()) / 2, w, false));
                }
            }
            if (!xs.isEmpty()) {
                segment(chart, "worker " + w, xs, ys, PALETTE[(w - 1) % PALETTE.length], bar);
            }
        }

        for (int i = 0; i < outages.size(); i++) {
            Outage o = outages.get(i);
            segment(chart, "outage " + i, List.of(o.from(), o.to()), List.of((double) nodesLane, (double) nodesLane), DOWN, bar);
            chart.addAnnotation(new AnnotationText(o.label(), (o.from() + o.to()) / 2, nodesLane, false));
            vertical(chart, "down " + i, o.from(), -0.5, nodesLane + 0.4, dashed);
            vertical(chart, "up " + i, o.to(), -0.5, nodesLane + 0.4, dashed);
        }

        if (lost != null) {
            segment(chart, "believed", List.of(lost.lostAt(), lost.believedUntil()),
                    List.of((double) keeperLane, (double) keeperLane), BELIEVED, thin);
            segment(chart, "kept", List.of(lost.from(), lost.lostAt()),
                    List.of((double) keeperLane, (double) keeperLane), KEPT, bar);
            vertical(chart, "deleted", lost.keysDeletedAt(), keeperLane - 0.4, keeperLane + 0.4, dashed);
            chart.addAnnotation(new AnnotationText("kept alive", (lost.from() + lost.keysDeletedAt()) / 2, keeperLane, false));
            chart.addAnnotation(new AnnotationText("keys deleted by another process", lost.keysDeletedAt(), keeperLane + 0.5, false));
            chart.addAnnotation(new AnnotationText(String.format(Locale.ROOT, "%d ms later: lease lost (%s), work interrupted",
                    Math.round((lost.lostAt() - lost.keysDeletedAt()) * 1000), lost.reason()), lost.lostAt(), keeperLane - 0.5, false));
            double secondsPerPixel = xMax / (WIDTH - 200);
            chart.addAnnotation(new AnnotationText(believedLabel,
                    lost.believedUntil() + (textWidth(believedLabel) / 2 + 12) * secondsPerPixel, keeperLane, false));
        }

        Files.createDirectories(file.toAbsolutePath().getParent());
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
    }

    private static double textWidth(String text) {
        return LABEL_FONT.getStringBounds(text, new FontRenderContext(null, true, false)).getWidth();
    }

    private static void segment(XYChart chart, String name, List<Double> xs, List<Double> ys, Color color, BasicStroke stroke) {
        XYSeries s = chart.addSeries(name, xs, ys);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(color);
        s.setLineStyle(stroke);
    }

    private static void vertical(XYChart chart, String name, double x, double y0, double y1, BasicStroke stroke) {
        segment(chart, name, List.of(x, x), List.of(y0, y1), EVENT, stroke);
    }

    /**
     * The y-axis label of a tick. XChart insists that every tick it computes (including some outside the
     * axis) gets a distinct label, else it retries with ever wider steps: so the blanks differ in length (XChart refuses empty text), and anything
     * that is not a lane keeps its number.
     */
    private static String laneName(double y, int workers, boolean keeper) {
        long lane = Math.round(y);
        if (Math.abs(y - lane) > 1e-9) {
            return Double.toString(y);
        }
        if (lane == -1) {
            return " ";
        }
        if (lane == workers + 2) {
            return "  ";
        }
        if (lane == 0) {
            return keeper ? "kept-alive lease" : "   ";
        }
        if (lane == workers + 1) {
            return "node outages";
        }
        return lane >= 1 && lane <= workers ? String.format(Locale.ROOT, "worker %d", lane) : Long.toString(lane);
    }
}
