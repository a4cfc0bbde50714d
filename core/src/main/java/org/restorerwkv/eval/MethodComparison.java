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
import java.util.Map;
import java.util.Set;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.AtomicFiles;

/**
 * Metrics of several methods on the same slices (the degraded input, a restoration, a classical
 * baseline), reported side by side per modality. Not thread-safe.
 */
public final class MethodComparison {

    /**
     * One method's metrics.
     *
     * @param sigmaPx the Gaussian sigma (pixels) used per modality, or empty for a method without one
     */
    public record Method(String name, MetricAccumulator metrics, Map<Modality, Double> sigmaPx) {}

    private final List<Method> methods = new ArrayList<>();

    /** Adds a method without a sigma; methods are reported in the order added. */
    public MethodComparison add(String name, MetricAccumulator metrics) {
        return add(name, metrics, Map.of());
    }

    /** Adds a method with the sigma it used for each modality. */
    public MethodComparison add(String name, MetricAccumulator metrics, Map<Modality, Double> sigmaPx) {
        if (name == null || metrics == null || sigmaPx == null) {
            throw new IllegalArgumentException("name, metrics and sigmas must not be null");
        }
        if (name.isEmpty() || name.indexOf(',') >= 0 || name.indexOf('\n') >= 0 || name.indexOf('"') >= 0) {
            throw new IllegalArgumentException("method name must be non-empty, without commas, quotes or line breaks: '"
                    + name + "'");
        }
        methods.add(new Method(name, metrics, Map.copyOf(sigmaPx)));
        return this;
    }

    public List<Method> methods() {
        return Collections.unmodifiableList(methods);
    }

    /** Modalities any method has slices of, in enum order. */
    public Set<Modality> modalities() {
        Set<Modality> out = EnumSet.noneOf(Modality.class);
        for (Method m : methods) {
            out.addAll(m.metrics().modalities());
        }
        return out;
    }

    /**
     * One line per modality and method with the slice count, mean PSNR / SSIM / RMSE and the sigma,
     * under a header line.
     */
    public String table() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-8s %-10s %6s %10s %8s %12s  %s%n",
                "modality", "method", "slices", "PSNR dB", "SSIM", "RMSE", "sigma px"));
        for (Modality mod : modalities()) {
            for (Method m : methods) {
                if (m.metrics().count(mod) == 0) {
                    continue;
                }
                SliceMetrics s = m.metrics().mean(mod);
                Double sigma = m.sigmaPx().get(mod);
                sb.append(String.format(Locale.ROOT, "%-8s %-10s %6d %10.4f %8.4f %12.4f  %s%n", mod, m.name(),
                        m.metrics().count(mod), s.psnr(), s.ssim(), s.rmse(), sigma == null ? "" : sigma.toString()));
            }
        }
        if (!modalities().isEmpty()) {
            StringBuilder units = new StringBuilder("RMSE units:");
            for (Modality mod : modalities()) {
                units.append(' ').append(mod).append(' ').append(mod.units().isEmpty() ? "-" : mod.units());
            }
            sb.append(units).append(System.lineSeparator());
        }
        return sb.toString();
    }

    /**
     * Writes {@code NAME,PSNR,SSIM,RMSE,METHOD,SIGMA_PX}: the first four columns as
     * {@link MetricAccumulator#writeCsv}, one row per slice and method (methods in the order added),
     * then per modality one {@code MEAN_<MODALITY>} row per method. SIGMA_PX is empty for a method
     * without a sigma.
     */
    public void writeCsv(Path file) throws IOException {
        StringBuilder sb = new StringBuilder("NAME,PSNR,SSIM,RMSE,METHOD,SIGMA_PX\n");
        for (Method m : methods) {
            for (MetricAccumulator.Row r : m.metrics().rows()) {
                line(sb, r.name(), r.metrics(), m, r.modality());
            }
        }
        for (Modality mod : modalities()) {
            for (Method m : methods) {
                if (m.metrics().count(mod) > 0) {
                    line(sb, "MEAN_" + mod.name(), m.metrics().mean(mod), m, mod);
                }
            }
        }
        AtomicFiles.write(file, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            w.write(sb.toString());
            w.flush();
        });
    }

    private static void line(StringBuilder sb, String name, SliceMetrics s, Method m, Modality mod) {
        Double sigma = m.sigmaPx().get(mod);
        sb.append(MetricAccumulator.fields(name, s)).append(',').append(m.name()).append(',').append(sigma == null ? "" : sigma.toString()).append('\n');
    }
}
