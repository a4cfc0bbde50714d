package org.restorerwkv.cli;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.restorerwkv.data.Modality;
import org.restorerwkv.data.VolumeSliceSource;
import org.restorerwkv.data.PairedDataset;
import org.restorerwkv.data.Split;
import org.restorerwkv.infer.Restorer;
import org.restorerwkv.metrics.MetricAccumulator;
import org.restorerwkv.model.RestoreRwkv;
import org.restorerwkv.train.FileComparison;
import org.restorerwkv.train.SplitEvaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code eval}: PSNR / SSIM / RMSE with the reference protocol, either of existing predictions
 * ({@code --pred P --target T --modality m}) or of a model on a dataset split
 * ({@code --weights W --data ROOT}).
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate predictions against targets (--pred/--target/--modality), or a model on a dataset split (--weights/--data).")
public final class EvalCommand implements Callable<Integer> {

    @Option(names = "--pred", paramLabel = "P", description = "Predicted image or folder (physical units).")
    Path pred;

    @Option(names = "--target", paramLabel = "T", description = "Target image or folder; folder files matched by name.")
    Path target;

    @Option(names = "--modality", paramLabel = "M", description = "ct, mri, pet or none (with --pred).")
    String modality;

    @Option(names = "--data", paramLabel = "ROOT", description = "Dataset root (with --weights).")
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

    @Mixin
    ModelOptions model;

    @Override
    public Integer call() throws Exception {
        MetricAccumulator acc;
        if (pred != null || target != null) {
            if (pred == null || target == null || modality == null) {
                throw new IllegalArgumentException("--pred, --target and --modality go together");
            }
            acc = FileComparison.compare(pred, target, Modality.parse(modality), new VolumeSliceSource());
        } else {
            if (data == null) {
                throw new IllegalArgumentException("give --pred/--target/--modality, or --weights with --data");
            }
            List<Modality> mods = new ArrayList<>();
            for (String m : modalities) {
                mods.add(Modality.parse(m));
            }
            PairedDataset ds = new PairedDataset(data, Split.parse(split), mods, new VolumeSliceSource(), 0);
            try (NDManager manager = NDManager.newBaseManager(model.device())) {
                RestoreRwkv net = model.load(manager);
                acc = SplitEvaluator.evaluateAll(new Restorer(net, manager, 1), ds, out);
            }
        }
        System.out.print(acc.summary());
        if (report != null) {
            acc.writeCsv(report);
        }
        return 0;
    }
}
