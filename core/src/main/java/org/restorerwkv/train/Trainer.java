package org.restorerwkv.train;

import org.restorerwkv.eval.SplitEvaluator;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.restorerwkv.checkpoint.Safetensors;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.data.Batch;
import org.restorerwkv.data.BatchLoader;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.data.VolumeSliceSource;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.data.PairedDataset;
import org.restorerwkv.data.PatchSampler;
import org.restorerwkv.data.SliceSource;
import org.restorerwkv.data.Split;
import org.restorerwkv.infer.Restorer;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.eval.MetricAccumulator;
import org.restorerwkv.eval.SliceMetrics;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;

/**
 * Trains Restore-RWKV with the reference protocol ({@link TrainOptions}).
 *
 * <p>Run directory: {@code latest.safetensors} (model weights, Adam state under
 * {@code optimizer.exp_avg.*} / {@code optimizer.exp_avg_sq.*}, and in the metadata the iteration,
 * Adam step, best score and the options that fix the data order), {@code best.safetensors} (model
 * weights with the best validation score: mean over modalities of the per-modality mean PSNR), and
 * the logs of {@link TrainLog}. Checkpoints are written atomically. The data order and crops are a
 * function of (seed, iteration), so {@code resume} continues a killed run at the same iteration,
 * learning rate and data as if it had never stopped.
 */
public final class Trainer {

    public static final String LATEST = "latest.safetensors";
    public static final String BEST = "best.safetensors";
    private static final String META = "restore_rwkv.train.";

    /** What happened in one optimizer step ({@code iteration} counts completed steps, from 1). */
    public record StepRecord(long iteration, double loss, double lr) {}

    /**
     * What a front end hears of a run (progress bars, plots, logs). Called on the training thread;
     * only {@link #onStep} must be implemented.
     */
    @FunctionalInterface
    public interface TrainListener {
        /** Before the first step: steps already done (when resuming) and the run's total. */
        default void started(long done, long total) {}

        /** After every step, before that step's validation and checkpoint. */
        void onStep(StepRecord step) throws IOException;

        /** After a validation pass: the model-selection score (mean PSNR over modalities, dB). */
        default void validated(long iteration, double score) {}

        /** After the logs in {@code runDir} were rewritten (with every latest checkpoint). */
        default void logsWritten(TrainLog log, Path runDir) throws IOException {}

        /** After the last step, or when the run fails. */
        default void finished() {}
    }

    /** Outcome of {@link #run()}. */
    public record Result(long iterations, double lastLoss, double bestScore, long bestIteration,
            Path latestCheckpoint, Path bestCheckpoint) {}

    private final TrainOptions options;
    private final SliceSource source;
    private TrainListener listener = step -> { };

    public Trainer(TrainOptions options) {
        this(options, new VolumeSliceSource());
    }

    /** A trainer reading images through {@code source}. */
    public Trainer(TrainOptions options, SliceSource source) {
        ModelConfig c = options.model();
        if (c.inpChannels() != 1 || c.outChannels() != 1) {
            throw new IllegalArgumentException("training uses single-channel slices: the model needs inp_channels = "
                    + "out_channels = 1, got " + c.inpChannels() + " and " + c.outChannels());
        }
        this.options = options;
        this.source = source;
    }

    /** Replaces the listener (by default none). */
    public void setListener(TrainListener listener) {
        this.listener = listener;
    }

    /** Trains until {@code options.iterations()} steps are done (from the checkpoint when resuming). */
    public Result run() throws IOException {
        TrainOptions o = options;
        Path runDir = o.runDir();
        Files.createDirectories(runDir);
        Path latest = runDir.resolve(LATEST);
        Path best = runDir.resolve(BEST);
        if (!o.resume() && Files.exists(latest)) {
            throw new InvalidInputException(runDir, "already holds a training checkpoint (" + LATEST
                    + "): resume it or choose another run directory");
        }
        PairedDataset train = new PairedDataset(o.dataRoot(), Split.TRAIN, o.modalities(), source, o.cacheBytes(), o.scaling());
        PairedDataset val = null;
        List<Integer> valIndices = List.of();
        if (o.valEvery() > 0) {
            val = new PairedDataset(o.dataRoot(), Split.VALIDATION, o.modalities(), source, o.cacheBytes() / 4, o.scaling());
            valIndices = SplitEvaluator.evenlySpaced(val.size(), o.valSlices());
        }
        CosineSchedule schedule = new CosineSchedule(o.lr(), o.minLr(), o.iterations());
        try (NDManager manager = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(o.model(), manager, o.seed());
            model.setCheckpointing(o.checkpointing());
            model.setFusedTraining(true); // step() backpropagates through model.backward
            Adam adam = new Adam(model.namedParameters(), 0.9, 0.999, 1e-8);
            long start = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            long bestIteration = 0;
            TrainLog log = new TrainLog();
            if (o.resume() && Files.exists(latest)) {
                Map<String, String> meta = Safetensors.readMetadata(latest);
                checkCompatible(latest, meta);
                LinkedHashMap<String, HostTensor> all = Safetensors.read(latest);
                Map<String, HostTensor> weights = new LinkedHashMap<>();
                Map<String, HostTensor> optim = new LinkedHashMap<>();
                all.forEach((k, t) -> {
                    if (k.startsWith(Weights.OPTIMIZER_PREFIX)) {
                        optim.put(k.substring(Weights.OPTIMIZER_PREFIX.length()), t);
                    } else {
                        weights.put(k, t);
                    }
                });
                try {
                    model.load(weights);
                    adam.load(optim, Long.parseLong(meta.get(META + "adam_step")));
                    start = Long.parseLong(meta.get(META + "iteration"));
                    bestScore = Double.parseDouble(meta.get(META + "best_score"));
                    bestIteration = Long.parseLong(meta.get(META + "best_iteration"));
                } catch (RuntimeException e) {
                    throw new InvalidInputException(latest, "unusable training checkpoint: " + e.getMessage());
                }
                if (Files.exists(best)) {
                    // a best checkpoint written after the latest one must not be overwritten by a worse one
                    String s = Safetensors.readMetadata(best).get(META + "score");
                    if (s != null && Double.parseDouble(s) > bestScore) {
                        bestScore = Double.parseDouble(s);
                        bestIteration = Long.parseLong(Safetensors.readMetadata(best).get(META + "iteration"));
                    }
                }
                log = TrainLog.read(runDir, start);
            } else if (o.initFrom() != null) {
                LinkedHashMap<String, HostTensor> init = Weights.readModelState(o.initFrom());
                try {
                    model.load(init);
                } catch (IllegalArgumentException e) {
                    throw new InvalidInputException(o.initFrom(), "does not fit the model (" + o.model() + "): "
                            + e.getMessage());
                }
            }
            PatchSampler sampler = new PatchSampler(train, o.seed(), o.batchSize(), o.patchSize(), o.augment(), o.balanced());
            Restorer restorer = new Restorer(model, manager, 1);
            double lastLoss = log.steps().isEmpty() ? Double.NaN : log.steps().get(log.steps().size() - 1).loss();
            int skippedInARow = 0;
            listener.started(start, o.iterations());
            try (BatchLoader loader = new BatchLoader(sampler, start, o.workers(), o.prefetch())) {
                for (long it = start; it < o.iterations(); it++) {
                    double lr = schedule.at(it);
                    Batch batch = loader.next();
                    double loss = step(model, manager, adam, batch, lr);
                    long done = it + 1;
                    if (!Double.isFinite(loss)) {
                        skippedInARow++;
                        warn(String.format(Locale.ROOT, "iteration %d: the loss or a gradient was not "
                                + "finite in %d attempts; the step was skipped", done, STEP_ATTEMPTS));
                        if (skippedInARow >= MAX_SKIPPED_IN_A_ROW) {
                            throw new TrainingDivergedException("training diverged: " + skippedInARow + " steps in a row "
                                    + "up to iteration " + done + " had a non-finite loss or gradient; the last "
                                    + "checkpoint is " + latest);
                        }
                    } else {
                        skippedInARow = 0;
                        lastLoss = loss;
                    }
                    log.addStep(done, loss, lr);
                    listener.onStep(new StepRecord(done, loss, lr));
                    if (val != null && (done % o.valEvery() == 0 || done == o.iterations())) {
                        double score;
                        try (NDManager scope = ParameterScope.open(model, manager)) {
                            score = validate(restorer, val, valIndices, done, log);
                        }
                        listener.validated(done, score);
                        if (score > bestScore) {
                            bestScore = score;
                            bestIteration = done;
                            Map<String, String> meta = modelMetadata();
                            meta.put(META + "iteration", Long.toString(done));
                            meta.put(META + "score", Double.toString(score));
                            Safetensors.write(best, model.stateDict(), meta);
                        }
                    }
                    if (done % o.checkpointEvery() == 0 || done == o.iterations()) {
                        writeLatest(latest, model, adam, done, bestScore, bestIteration);
                        log.write(runDir);
                        listener.logsWritten(log, runDir);
                    }
                }
            } finally {
                listener.finished();
            }
            return new Result(o.iterations(), lastLoss, bestScore, bestIteration, latest,
                    Files.exists(best) ? best : null);
        }
    }

    /** Recomputed or skipped steps: one line on standard error, as the CLI reports. */
    private static void warn(String message) {
        System.err.println("restore-rwkv train: warning: " + message);
    }

    /** Forward/backward passes tried per step before it is skipped. */
    static final int STEP_ATTEMPTS = 2;
    /** Skipped steps in a row that end the run as diverged. */
    static final int MAX_SKIPPED_IN_A_ROW = 10;

    /**
     * One optimizer step on a batch: forward in training form, loss, backward, Adam. (Dense
     * convolutions are {@link org.restorerwkv.model.TapConv}, whose batched gradients are exact.)
     *
     * <p>The update is applied only when the loss and every gradient are finite. Runs of one seed
     * differ in the last float bits here (libtorch's threaded CPU kernels), and one such 14-step run
     * in fourteen got a non-finite {@code spatial_decay} gradient from finite parameters and a finite
     * loss. A non-finite pass is therefore recomputed once; if it stays non-finite the step is skipped
     * (no update, as mixed-precision loss scaling does) and NaN is returned. (A cause found later:
     * DJL's {@code div(Number)} frees its scalar before the backward reads it; the model now divides
     * by libtorch-owned scalars, see {@link org.restorerwkv.wkv.NativeArrays}.)
     */
    private double step(RestoreRwkv model, NDManager manager, Adam adam, Batch b, double lr) {
        try (NDManager scope = ParameterScope.open(model, manager)) {
            Shape shape = new Shape(b.size(), 1, b.patch(), b.patch());
            NDArray x = scope.create(b.lq(), shape); // (B,1,P,P)
            NDArray y = scope.create(b.hq(), shape);
            for (int attempt = 1; attempt <= STEP_ATTEMPTS; attempt++) {
                double loss;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray l = options.loss().apply(model.forward(x, true), y, options.charbonnierEps());
                    model.backward(gc, l);
                    loss = l.getFloat();
                }
                if (Double.isFinite(loss) && adam.gradientsFinite()) {
                    adam.step(lr);
                    // the inference weights derived from them (fused Omni-Shift, host copies) are stale now
                    model.weightsChanged();
                    return loss;
                }
                adam.zeroGradients();
                if (attempt < STEP_ATTEMPTS) {
                    warn("non-finite loss (" + loss + ") or gradient; recomputing the step");
                }
            }
            return Double.NaN;
        }
    }

    /** Validates, logs per-modality means and the score (modality MEAN), returns the score. */
    private static double validate(Restorer restorer, PairedDataset val, List<Integer> indices, long iteration,
            TrainLog log) throws IOException {
        MetricAccumulator acc = SplitEvaluator.evaluate(restorer, val, indices);
        double sum = 0;
        int n = 0;
        for (Modality m : acc.modalities()) {
            SliceMetrics s = acc.mean(m);
            log.addVal(iteration, m.name(), s.psnr(), s.ssim(), s.rmse());
            if (!Double.isNaN(s.psnr())) {
                sum += s.psnr();
                n++;
            }
        }
        double score = n == 0 ? Double.NaN : sum / n;
        log.addVal(iteration, "MEAN", score, Double.NaN, Double.NaN);
        return score;
    }

    private void writeLatest(Path latest, RestoreRwkv model, Adam adam, long iteration, double bestScore,
            long bestIteration) throws IOException {
        LinkedHashMap<String, HostTensor> tensors = model.stateDict();
        adam.state().forEach((k, t) -> tensors.put(Weights.OPTIMIZER_PREFIX + k, t));
        Map<String, String> meta = modelMetadata();
        meta.put(META + "iteration", Long.toString(iteration));
        meta.put(META + "adam_step", Long.toString(adam.stepCount()));
        meta.put(META + "best_score", Double.toString(bestScore));
        meta.put(META + "best_iteration", Long.toString(bestIteration));
        meta.putAll(dataOrderOptions());
        Safetensors.write(latest, tensors, meta);
    }

    /** What every checkpoint says about the model: its config and the intensity scaling it trains with. */
    private Map<String, String> modelMetadata() {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(Weights.CONFIG_METADATA, options.model().toJson());
        meta.put(IntensityScaling.METADATA, options.scaling().id());
        return meta;
    }

    /** The options a resumed run must share with the original to continue it exactly. */
    private Map<String, String> dataOrderOptions() {
        TrainOptions o = options;
        Map<String, String> m = new LinkedHashMap<>();
        m.put(META + "seed", Long.toString(o.seed()));
        m.put(META + "iterations", Long.toString(o.iterations()));
        m.put(META + "batch_size", Integer.toString(o.batchSize()));
        m.put(META + "patch_size", Integer.toString(o.patchSize()));
        m.put(META + "lr", Double.toString(o.lr()));
        m.put(META + "min_lr", Double.toString(o.minLr()));
        m.put(META + "loss", o.loss().name());
        m.put(META + "augment", Boolean.toString(o.augment()));
        m.put(META + "balanced", Boolean.toString(o.balanced()));
        m.put(META + "modalities", o.modalities().stream().map(Modality::name).sorted().collect(Collectors.joining(",")));
        return m;
    }

    private void checkCompatible(Path latest, Map<String, String> meta) throws InvalidInputException {
        List<String> diffs = new ArrayList<>();
        dataOrderOptions().forEach((k, v) -> {
            String stored = meta.get(k);
            if (!v.equals(stored)) {
                diffs.add(k.substring(META.length()) + " " + stored + " (now " + v + ")");
            }
        });
        String config = meta.get(Weights.CONFIG_METADATA);
        if (config == null || !ModelConfig.fromJson(config).equals(options.model())) {
            diffs.add("model config " + config);
        }
        String scaling = meta.get(IntensityScaling.METADATA);
        if (IntensityScaling.parse(scaling) != options.scaling()) {
            diffs.add("intensity scaling " + scaling + " (now " + options.scaling().id() + ")");
        }
        for (String k : new String[] {"iteration", "adam_step", "best_score", "best_iteration"}) {
            if (meta.get(META + k) == null) {
                diffs.add(k + " missing");
            }
        }
        if (!diffs.isEmpty()) {
            throw new InvalidInputException(latest, "cannot resume with these options: checkpoint has "
                    + String.join(", ", diffs));
        }
    }
}
