package org.restorerwkv.cli;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.data.VolumeSliceSource;
import org.restorerwkv.data.PairedDataset;
import org.restorerwkv.data.Split;
import org.restorerwkv.eval.GaussianBaseline;
import org.restorerwkv.infer.Restorer;
import org.restorerwkv.eval.MethodComparison;
import org.restorerwkv.eval.MetricAccumulator;
import org.restorerwkv.model.RestoreRwkv;
import org.restorerwkv.eval.FileComparison;
import org.restorerwkv.eval.SplitEvaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code eval}: PSNR / SSIM / RMSE with the reference protocol, either of existing predictions
 * ({@code --pred P --target T --modality m}) or of a model on a dataset split
 * ({@code --weights W --data ROOT}), optionally beside the degraded input and a Gaussian-filter
 * baseline ({@code --baseline gaussian}, which also works without weights).
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate predictions against targets (--pred/--target/--modality), or a model and/or a Gaussian baseline on a dataset split (--data, with --weights or each modality's built-in default model, --baseline gaussian).")
public final class EvalCommand implements Callable<Integer> {

    @Option(names = "--pred", paramLabel = "P", description = "Predicted image or folder (physical units).")
    Path pred;

    @Option(names = "--target", paramLabel = "T", description = "Target image or folder; folder files matched by name.")
    Path target;

    @Option(names = "--modality", paramLabel = "M", description = "ct, mri, pet or none (with --pred).")
    String modality;

    @Option(names = "--data", paramLabel = "ROOT", description = "Dataset root (restored with --weights, else with each"
            + " modality's built-in default model).")
    Path data;

    @Option(names = "--split", defaultValue = "test", description = "train, validation or test (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--modalities", split = ",", defaultValue = "ct,mri,pet", paramLabel = "M",
            description = "Modality folders to evaluate (default: ${DEFAULT-VALUE}).")
    List<String> modalities;

    @Option(names = "--out", paramLabel = "DIR", description = "Save restored volumes (.npy, physical units) and metrics.csv here.")
    Path out;

    @Option(names = "--report", paramLabel = "R.csv", description = "Per-slice metrics and per-modality means as CSV.")
    Path report;

    @Option(names = "--baseline", paramLabel = "gaussian",
            description = "Also report the degraded input and a Gaussian filter whose sigma per modality maximizes the "
                    + "mean PSNR on the validation split (with --data; --weights optional).")
    String baseline;

    @Option(names = "--sigmas", split = ",", paramLabel = "PX",
            description = "Sigma grid in pixels for --baseline gaussian (default: 0 and 0.25 to 3 in steps of 0.25).")
    double[] sigmas;

    @Option(names = "--no-model", description = "With --data and --baseline gaussian: only the degraded input and the"
            + " Gaussian baseline, no network.")
    boolean noModel;

    @Mixin
    ModelOptions model;

    @Override
    public Integer call() throws Exception {
        MetricAccumulator acc;
        if (pred != null || target != null) {
            if (pred == null || target == null || modality == null) {
                throw new IllegalArgumentException("--pred, --target and --modality go together");
            }
            if (baseline != null) {
                throw new IllegalArgumentException("--baseline evaluates a dataset: it goes with --data, not --pred");
            }
            acc = FileComparison.compare(pred, target, Modality.parse(modality), new VolumeSliceSource());
        } else {
            if (data == null) {
                throw new IllegalArgumentException("give --pred/--target/--modality, or --data with --weights and/or --baseline gaussian");
            }
            boolean gaussian = baseline != null;
            if (gaussian && !baseline.strip().equalsIgnoreCase("gaussian")) {
                throw new IllegalArgumentException("--baseline must be gaussian, got '" + baseline + "'");
            }
            if (noModel && (!gaussian || model.weights != null || out != null)) {
                throw new IllegalArgumentException("--no-model goes with --baseline gaussian, without --weights and --out");
            }
            List<Modality> mods = new ArrayList<>();
            for (String m : modalities) {
                mods.add(Modality.parse(m));
            }
            // without --weights each modality gets its bundled default model (one line each on stderr)
            Map<Modality, String> specs = new LinkedHashMap<>();
            if (!noModel) {
                for (Modality m : mods) {
                    specs.put(m, model.weightsOrDefault(m));
                }
            }
            // scans are normalized as the model was trained (the baseline is linear: any scaling gives its metrics)
            IntensityScaling scaling = noModel ? IntensityScaling.FIXED : Weights.scalingOf(specs.get(mods.get(0)));
            PairedDataset ds = new PairedDataset(data, Split.parse(split), mods, new VolumeSliceSource(), 0, scaling);
            // the sigma search comes first: it is cheap next to the model and fails early on a bad validation split
            Map<Modality, GaussianBaseline.Choice> choices = gaussian ? chooseSigmas(ds) : null;
            acc = noModel ? null : evaluateModels(mods, specs, ds.split());
            if (gaussian) {
                compare(ds, acc, choices);
                return 0;
            }
        }
        System.out.print(acc.summary());
        if (report != null) {
            acc.writeCsv(report);
        }
        return 0;
    }

    /**
     * Restores every modality of the split with its model (modalities that share a model in one
     * pass); with --out the restored volumes and the metrics of all modalities are saved there.
     */
    private MetricAccumulator evaluateModels(List<Modality> mods, Map<Modality, String> specs, Split sp)
            throws IOException {
        MetricAccumulator acc = new MetricAccumulator();
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            for (String spec : new LinkedHashSet<>(specs.values())) {
                List<Modality> same = mods.stream().filter(m -> specs.get(m).equals(spec)).toList();
                PairedDataset part = new PairedDataset(data, sp, same, new VolumeSliceSource(), 0, Weights.scalingOf(spec));
                RestoreRwkv net = model.load(manager, spec);
                for (MetricAccumulator.Row r : SplitEvaluator.evaluateAll(new Restorer(net, manager, 1), part, out).rows()) {
                    acc.add(r.name(), r.modality(), r.metrics());
                }
            }
        }
        if (out != null) {
            acc.writeCsv(out.resolve("metrics.csv"));
        }
        return acc;
    }

    /** The Gaussian sigma per modality of {@code ds}, chosen on the validation split; each choice printed. */
    private Map<Modality, GaussianBaseline.Choice> chooseSigmas(PairedDataset ds) throws IOException {
        if (ds.split() == Split.VALIDATION) {
            System.err.println("note: --split validation is also where the Gaussian sigma is chosen");
        }
        PairedDataset validation = new PairedDataset(data, Split.VALIDATION, ds.modalities(), new VolumeSliceSource(), 0,
                ds.scaling());
        Map<Modality, GaussianBaseline.Choice> choices =
                GaussianBaseline.choose(validation, sigmas == null ? GaussianBaseline.DEFAULT_SIGMAS : sigmas);
        for (GaussianBaseline.Choice c : choices.values()) {
            System.out.printf(Locale.ROOT, "%s: Gaussian sigma %s px, mean validation PSNR %.4f dB over %d slices%n",
                    c.modality(), c.sigma(), c.bestPsnr(), c.slices());
        }
        return choices;
    }

    /** Prints and reports the degraded input, the restoration (when there is one) and the Gaussian baseline. */
    private void compare(PairedDataset ds, MetricAccumulator restored, Map<Modality, GaussianBaseline.Choice> choices)
            throws IOException {
        Map<Modality, Double> sigma = GaussianBaseline.sigmas(choices);
        MethodComparison cmp = new MethodComparison().add("input", SplitEvaluator.evaluateInput(ds));
        if (restored != null) {
            cmp.add("restored", restored);
        }
        cmp.add("gaussian", GaussianBaseline.evaluate(ds, sigma), sigma);
        System.out.print(cmp.table());
        if (report != null) {
            cmp.writeCsv(report);
        }
    }
}
