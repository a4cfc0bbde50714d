package org.restorerwkv.eval;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.AtomicFiles;

/**
 * Collects per-slice metrics and averages them per modality, as the reference reports them
 * (metrics computed per slice, then averaged per modality). Not thread-safe.
 *
 * <p>Means skip undefined (NaN) values metric by metric, so a constant ground-truth slice does not
 * make its modality's PSNR/SSIM mean NaN; a +Infinity PSNR (an exact prediction) makes the PSNR mean
 * +Infinity.
 */
public final class MetricAccumulator {

    /** One evaluated slice. */
    public record Row(String name, Modality modality, SliceMetrics metrics) {}

    private final List<Row> rows = new ArrayList<>();

    /** Records one slice; the name is what the CSV's NAME column shows. */
    public void add(String name, Modality modality, SliceMetrics metrics) {
        if (name == null || modality == null || metrics == null) {
            throw new IllegalArgumentException("name, modality and metrics must not be null");
        }
        rows.add(new Row(name, modality, metrics));
    }

    /** The slices in the order they were added. */
    public List<Row> rows() {
        return Collections.unmodifiableList(rows);
    }

    /** Modalities with at least one slice, in enum order. */
    public Set<Modality> modalities() {
        Set<Modality> present = EnumSet.noneOf(Modality.class);
        for (Row r : rows) {
            present.add(r.modality());
        }
        return present;
    }

    /** Number of slices of a modality. */
    public int count(Modality modality) {
        int n = 0;
        for (Row r : rows) {
            if (r.modality() == modality) {
                n++;
            }
        }
        return n;
    }

    /** Mean of each metric over the modality's slices where it is defined; NaN when there is none. */
    public SliceMetrics mean(Modality modality) {
        double[] sum = new double[3];
        int[] n = new int[3];
        for (Row r : rows) {
            if (r.modality() != modality) {
                continue;
            }
            double[] v = {r.metrics().psnr(), r.metrics().ssim(), r.metrics().rmse()};
            for (int i = 0; i < 3; i++) {
                if (!Double.isNaN(v[i])) {
                    sum[i] += v[i];
                    n[i]++;
                }
            }
        }
        return new SliceMetrics(div(sum[0], n[0]), div(sum[1], n[1]), div(sum[2], n[2]));
    }

    /** One line per modality, e.g. {@code CT: 32 slices, PSNR 33.2100 dB, SSIM 0.9123, RMSE 9.8700 HU}. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        for (Modality m : modalities()) {
            SliceMetrics s = mean(m);
            sb.append(String.format(Locale.ROOT, "%s: %d slices, PSNR %.4f dB, SSIM %.4f, RMSE %.4f%s%n",
                    m, count(m), s.psnr(), s.ssim(), s.rmse(), m.units().isEmpty() ? "" : " " + m.units()));
        }
        return sb.toString();
    }

    /**
     * Writes {@code NAME,PSNR,SSIM,RMSE}: one row per slice in insertion order, then one row
     * {@code MEAN_<MODALITY>} per modality present. Numbers use 8 significant digits ("Infinity" and
     * "NaN" as such); names holding a comma, quote or line break are quoted as in RFC 4180.
     */
    public void writeCsv(Path file) throws IOException {
        StringBuilder sb = new StringBuilder("NAME,PSNR,SSIM,RMSE\n");
        for (Row r : rows) {
            line(sb, r.name(), r.metrics());
        }
        for (Modality m : modalities()) {
            line(sb, "MEAN_" + m.name(), mean(m));
        }
        AtomicFiles.write(file, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            w.write(sb.toString());
            w.flush();
        });
    }

    private static void line(StringBuilder sb, String name, SliceMetrics s) {
        sb.append(fields(name, s)).append('\n');
    }

    /** {@code NAME,PSNR,SSIM,RMSE} of one row, without a line break. */
    static String fields(String name, SliceMetrics s) {
        return csvField(name) + ',' + number(s.psnr()) + ',' + number(s.ssim()) + ',' + number(s.rmse());
    }

    static String csvField(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    private static String number(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.8g", v) : Double.toString(v);
    }

    private static double div(double sum, int n) {
        return n == 0 ? Double.NaN : sum / n;
    }
}
