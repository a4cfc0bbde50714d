package org.restorerwkv.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.train.LossKind;
import org.restorerwkv.train.TrainOptions;
import org.restorerwkv.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code train}: the reference training protocol on a paired dataset. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train Restore-RWKV on ROOT/{CT,MRI,PET}/{train,validation}/{LQ,HQ} (pairs matched by file name).")
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--data", required = true, paramLabel = "ROOT", description = "Dataset root.")
    Path data;

    @Option(names = {"--out", "--run-dir"}, required = true, paramLabel = "DIR",
            description = "Checkpoints (latest/best .safetensors), train_log.csv, val_log.csv, curves.png.")
    Path runDir;

    @Option(names = "--modalities", split = ",", paramLabel = "M", defaultValue = "ct,mri,pet",
            description = "Tasks; several = all-in-one (default: ${DEFAULT-VALUE}).")
    List<String> modalities;

    @Option(names = "--config", defaultValue = "default", paramLabel = "NAME|FILE",
            description = "default, light or a JSON file (the reference's fields, plus recurrence: 1 Bi-WKV, 2+ Re-WKV;"
                    + " token_shift: omni, quad, uni, none; see docs/ablations.md) (default: ${DEFAULT-VALUE}).")
    String config;

    @Option(names = "--iterations", defaultValue = "300000", description = "Total steps, also the cosine period (default: ${DEFAULT-VALUE}).")
    long iterations;

    @Option(names = {"--batch", "--batch-size"}, defaultValue = "4", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = {"--patch", "--patch-size"}, defaultValue = "128", description = "Random crop side, a multiple of 8; smaller slices are reflect-padded (default: ${DEFAULT-VALUE}).")
    int patchSize;

    @Option(names = "--lr", defaultValue = "2e-4", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--min-lr", defaultValue = "1e-6", description = "End of the cosine schedule (default: ${DEFAULT-VALUE}).")
    double minLr;

    @Option(names = "--seed", defaultValue = "0", description = "Initial weights and data order (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--loss", defaultValue = "l1", description = "l1, l2 (mean squared error) or charbonnier (default: ${DEFAULT-VALUE}).")
    String loss;

    @Option(names = "--augment", description = "Random flips and 90-degree rotations; MRI pairs also get a random "
            + "intensity gain (MRI units are arbitrary): in [0.8, 1.25] under mri-p99.5 scaling, [1/2, 16] under fixed.")
    boolean augment;

    @Option(names = "--intensity-scaling", defaultValue = "mri-p99.5", paramLabel = "fixed|mri-p99.5",
            description = "fixed: the reference's ranges only; mri-p99.5: each MRI scan scaled so its input's 99.5th "
                    + "percentile sits at 1024 first. Stored with the weights; restore and eval apply it (default: ${DEFAULT-VALUE}).")
    String intensityScaling;

    @Option(names = "--balanced", description = "All-in-one: equal share per modality (default: uniform over slices, as the reference).")
    boolean balanced;

    @Option(names = "--val-every", defaultValue = "1000", description = "Validate every N steps, 0 = never (default: ${DEFAULT-VALUE}).")
    int valEvery;

    @Option(names = "--val-slices", defaultValue = "32", description = "Validation slices, evenly spaced, 0 = all (default: ${DEFAULT-VALUE}).")
    int valSlices;

    @Option(names = "--checkpoint-every", description = "Write the latest checkpoint every N steps (default: --val-every).")
    Integer checkpointEvery;

    @Option(names = "--workers", defaultValue = "2", description = "Batch loading threads (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--cache-mb", defaultValue = "2048", description = "Memory for decoded training images (default: ${DEFAULT-VALUE}).")
    long cacheMb;

    @Option(names = "--resume", description = "Continue the run in --run-dir from its latest checkpoint.")
    boolean resume;

    @Option(names = "--init", paramLabel = "WEIGHTS", description = "Fine-tune: start from these weights (.pth, .safetensors or builtin:NAME).")
    String init;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Option(names = "--checkpointing", description = "Gradient checkpointing: keep only each RWKV block's input and "
            + "output and run the block again in the backward pass (much less memory, slower steps).")
    boolean checkpointing;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads for libtorch and the fused kernels "
            + "(default: all cores). On a machine shared with other jobs 1 can be much faster: libtorch's "
            + "waiting threads spin.")
    Integer threads;

    /** Also told of every step, after the progress display (null: nothing); set by tests that stop a run at a known step. */
    Trainer.TrainListener afterStep;

    @Override
    public Integer call() throws Exception {
        ModelOptions.applyThreads(threads); // before the engine starts
        List<Modality> mods = new ArrayList<>();
        for (String m : modalities) {
            Modality parsed = Modality.parse(m);
            if (parsed == Modality.NONE) {
                throw new IllegalArgumentException("--modalities: none is not a training task");
            }
            mods.add(parsed);
        }
        TrainOptions.Builder b = TrainOptions.builder(data, runDir).modalities(mods).model(ModelConfig.resolve(config))
                .iterations(iterations).batchSize(batchSize).patchSize(patchSize).lr(lr).minLr(minLr).seed(seed)
                .loss(LossKind.parse(loss)).augment(augment).balanced(balanced).valEvery(valEvery).valSlices(valSlices)
                .workers(workers).cacheBytes(cacheMb << 20).resume(resume)
                .initFrom(init == null ? null : Weights.resolve(init))
                .scaling(IntensityScaling.parse(intensityScaling)).checkpointing(checkpointing);
        if (checkpointEvery != null) {
            b.checkpointEvery(checkpointEvery);
        }
        Trainer trainer = new Trainer(b.build());
        TrainProgress progress = new TrainProgress(!noProgress);
        trainer.setListener(afterStep == null ? progress : new Trainer.TrainListener() {
            @Override
            public void started(long done, long total) {
                progress.started(done, total);
            }

            @Override
            public void onStep(Trainer.StepRecord step) throws java.io.IOException {
                progress.onStep(step);
                afterStep.onStep(step);
            }

            @Override
            public void validated(long iteration, double score) {
                progress.validated(iteration, score);
            }

            @Override
            public void logsWritten(org.restorerwkv.train.TrainLog log, Path runDir) throws java.io.IOException {
                progress.logsWritten(log, runDir);
            }

            @Override
            public void finished() {
                progress.finished();
            }
        });
        Trainer.Result r = trainer.run();
        System.out.printf(Locale.ROOT, "trained %d iterations, last loss %.6g; best validation PSNR %.4f dB at iteration %d%n",
                r.iterations(), r.lastLoss(), r.bestScore(), r.bestIteration());
        System.out.println("latest: " + r.latestCheckpoint());
        if (r.bestCheckpoint() != null) {
            System.out.println("best:   " + r.bestCheckpoint());
        }
        return 0;
    }
}
