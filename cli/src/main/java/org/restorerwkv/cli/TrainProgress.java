package org.restorerwkv.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.restorerwkv.io.AtomicFiles;
import org.restorerwkv.train.TrainLog;
import org.restorerwkv.train.Trainer;

/**
 * What {@code train} shows while the core trainer runs: a progress bar on standard error (unless
 * {@code --no-progress}) and {@code curves.png} (loss and validation PSNR against iteration) redrawn
 * from the logs whenever the trainer rewrites them.
 */
final class TrainProgress implements Trainer.TrainListener {

    static final String PLOT = "curves.png";
    /** Loss curves are averaged over bins down to at most this many points. */
    private static final int PLOT_POINTS = 1000;

    private final boolean bar;
    private ProgressBar progress;
    private String lastVal = "-";

    TrainProgress(boolean bar) {
        this.bar = bar;
    }

    @Override
    public void started(long done, long total) {
        if (bar) {
            progress = new ProgressBarBuilder().setTaskName("train").setInitialMax(total)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(1000).setMaxRenderedLength(120).showSpeed()
                    .startsFrom(done, Duration.ZERO).build();
        }
    }

    @Override
    public void onStep(Trainer.StepRecord s) {
        if (progress != null) {
            progress.step();
            progress.setExtraMessage(String.format(Locale.ROOT, " loss %.4g lr %.3g val %s dB", s.loss(), s.lr(), lastVal));
        }
    }

    @Override
    public void validated(long iteration, double score) {
        lastVal = String.format(Locale.ROOT, "%.2f", score);
    }

    @Override
    public void logsWritten(TrainLog log, Path runDir) throws IOException {
        if (!log.steps().isEmpty()) {
            plot(log, runDir.resolve(PLOT));
        }
    }

    @Override
    public void finished() {
        if (progress != null) {
            progress.close();
        }
    }

    static void plot(TrainLog log, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<XYChart> charts = new ArrayList<>();
        XYChart loss = new XYChartBuilder().width(900).height(400).title("Training loss")
                .xAxisTitle("iteration").yAxisTitle("loss").build();
        int bin = Math.max(1, (log.steps().size() + PLOT_POINTS - 1) / PLOT_POINTS);
        int n = (log.steps().size() + bin - 1) / bin;
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            int from = i * bin;
            int to = Math.min(log.steps().size(), from + bin);
            double sum = 0;
            int finite = 0;
            for (int j = from; j < to; j++) {
                if (Double.isFinite(log.steps().get(j).loss())) { // skipped steps log NaN
                    sum += log.steps().get(j).loss();
                    finite++;
                }
            }
            x[i] = log.steps().get(to - 1).iteration();
            y[i] = finite == 0 ? Double.NaN : sum / finite;
        }
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (Double.isFinite(y[i])) {
                x[kept] = x[i];
                y[kept++] = y[i];
            }
        }
        x = Arrays.copyOf(x, Math.max(kept, 1));
        y = Arrays.copyOf(y, Math.max(kept, 1));
        loss.addSeries(bin == 1 ? "loss" : "loss (mean of " + bin + ")", x, y).setMarker(SeriesMarkers.NONE);
        loss.getStyler().setYAxisLogarithmic(allPositive(y));
        charts.add(loss);
        Map<String, List<TrainLog.Val>> byModality = new LinkedHashMap<>();
        for (TrainLog.Val r : log.vals()) {
            if (Double.isFinite(r.psnr())) {
                byModality.computeIfAbsent(r.modality(), k -> new ArrayList<>()).add(r);
            }
        }
        if (!byModality.isEmpty()) {
            XYChart psnr = new XYChartBuilder().width(900).height(400).title("Validation PSNR")
                    .xAxisTitle("iteration").yAxisTitle("PSNR (dB)").build();
            byModality.forEach((m, rs) -> psnr.addSeries(m.toLowerCase(Locale.ROOT).equals("mean") ? "mean" : m,
                    rs.stream().mapToDouble(TrainLog.Val::iteration).toArray(), rs.stream().mapToDouble(TrainLog.Val::psnr).toArray()));
            charts.add(psnr);
        }
        AtomicFiles.write(file, out -> BitmapEncoder.saveBitmap(charts, charts.size(), 1, out, BitmapEncoder.BitmapFormat.PNG));
    }

    private static boolean allPositive(double[] y) {
        for (double v : y) {
            if (!(v > 0)) {
                return false;
            }
        }
        return true;
    }
}
