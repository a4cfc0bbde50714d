package org.restorerwkv.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.model.ModelConfig;

/**
 * Everything a training run depends on. Defaults ({@link #builder}) follow the reference protocol:
 * L1 loss, Adam lr 2e-4 (betas 0.9/0.999, eps 1e-8), cosine annealing to 1e-6 over 300k
 * iterations, batch 4, random 128x128 crops, validation every 1k iterations on 32 slices.
 *
 * @param dataRoot dataset root, {@code ROOT/{CT,MRI,PET}/{train,validation,test}/{LQ,HQ}/}
 * @param runDir where checkpoints, logs and plots go
 * @param modalities the tasks to train on; several = all-in-one training on the pooled data
 * @param model network configuration
 * @param iterations total optimizer steps (also the cosine period)
 * @param batchSize patches per step
 * @param patchSize crop side in pixels (a multiple of 8)
 * @param lr initial learning rate
 * @param minLr final learning rate of the cosine schedule
 * @param seed seeds the initial weights and the data order
 * @param loss pixel loss
 * @param charbonnierEps eps of the Charbonnier loss
 * @param augment random flips and rotations by 90 degrees
 * @param balanced all-in-one sampling balanced per modality (default: uniform over slices, as
 *     the reference)
 * @param valEvery validate every this many iterations (0: never)
 * @param valSlices validation slices, evenly spaced over the validation split (0: all)
 * @param checkpointEvery write the latest checkpoint every this many iterations
 * @param workers background threads that build batches
 * @param prefetch batches built ahead of the training step
 * @param cacheBytes memory for decoded training images; beyond it files are read again
 * @param resume continue from {@code runDir/latest} if it exists
 * @param initFrom initial weights (fine-tuning), or null for random initialization
 * @param scaling how scans are brought into the normalization ranges (stored with the weights)
 * @param checkpointing gradient checkpointing of the RWKV blocks: less memory, about one more
 *     forward pass of the blocks per step
 */
public record TrainOptions(
        Path dataRoot,
        Path runDir,
        List<Modality> modalities,
        ModelConfig model,
        long iterations,
        int batchSize,
        int patchSize,
        double lr,
        double minLr,
        long seed,
        LossKind loss,
        double charbonnierEps,
        boolean augment,
        boolean balanced,
        int valEvery,
        int valSlices,
        int checkpointEvery,
        int workers,
        int prefetch,
        long cacheBytes,
        boolean resume,
        Path initFrom,
        IntensityScaling scaling,
        boolean checkpointing) {

    public TrainOptions {
        Objects.requireNonNull(dataRoot, "dataRoot");
        Objects.requireNonNull(runDir, "runDir");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(loss, "loss");
        Objects.requireNonNull(scaling, "scaling");
        modalities = List.copyOf(modalities);
        if (modalities.isEmpty() || modalities.contains(Modality.NONE)) {
            throw new IllegalArgumentException("modalities must be a non-empty subset of CT, MRI, PET");
        }
        if (iterations < 1 || batchSize < 1 || patchSize < 8 || patchSize % 8 != 0) {
            throw new IllegalArgumentException("iterations >= 1, batch size >= 1 and a patch size that is a multiple of 8 required");
        }
        if (valEvery < 0 || valSlices < 0 || checkpointEvery < 1 || workers < 1 || prefetch < 1 || cacheBytes < 0) {
            throw new IllegalArgumentException("val-every >= 0, val-slices >= 0, checkpoint-every >= 1, workers >= 1, prefetch >= 1 required");
        }
        if (!(charbonnierEps > 0)) {
            throw new IllegalArgumentException("charbonnier eps must be > 0");
        }
        new CosineSchedule(lr, minLr, iterations); // validates lr, minLr
    }

    public static Builder builder(Path dataRoot, Path runDir) {
        return new Builder(dataRoot, runDir);
    }

    /** Fluent construction with the reference defaults. */
    public static final class Builder {
        private final Path dataRoot;
        private final Path runDir;
        private List<Modality> modalities = List.of(Modality.CT, Modality.MRI, Modality.PET);
        private ModelConfig model = ModelConfig.DEFAULT;
        private long iterations = 300_000;
        private int batchSize = 4;
        private int patchSize = 128;
        private double lr = 2e-4;
        private double minLr = 1e-6;
        private long seed = 0;
        private LossKind loss = LossKind.L1;
        private double charbonnierEps = 1e-3;
        private boolean augment = false;
        private boolean balanced = false;
        private int valEvery = 1000;
        private int valSlices = 32;
        private Integer checkpointEvery;
        private int workers = 2;
        private int prefetch = 4;
        private long cacheBytes = 2L << 30;
        private boolean resume = false;
        private Path initFrom;
        private IntensityScaling scaling = IntensityScaling.MRI_PERCENTILE;
        private boolean checkpointing = false;

        private Builder(Path dataRoot, Path runDir) {
            this.dataRoot = dataRoot;
            this.runDir = runDir;
        }

        public Builder modalities(List<Modality> v) { modalities = v; return this; }
        public Builder model(ModelConfig v) { model = v; return this; }
        public Builder iterations(long v) { iterations = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder patchSize(int v) { patchSize = v; return this; }
        public Builder lr(double v) { lr = v; return this; }
        public Builder minLr(double v) { minLr = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder loss(LossKind v) { loss = v; return this; }
        public Builder charbonnierEps(double v) { charbonnierEps = v; return this; }
        public Builder augment(boolean v) { augment = v; return this; }
        public Builder balanced(boolean v) { balanced = v; return this; }
        public Builder valEvery(int v) { valEvery = v; return this; }
        public Builder valSlices(int v) { valSlices = v; return this; }
        /** Defaults to valEvery (or 1000 when validation is off). */
        public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }
        public Builder workers(int v) { workers = v; return this; }
        public Builder prefetch(int v) { prefetch = v; return this; }
        public Builder cacheBytes(long v) { cacheBytes = v; return this; }
        public Builder resume(boolean v) { resume = v; return this; }
        public Builder initFrom(Path v) { initFrom = v; return this; }
        public Builder scaling(IntensityScaling v) { scaling = v; return this; }
        public Builder checkpointing(boolean v) { checkpointing = v; return this; }

        public TrainOptions build() {
            int ckpt = checkpointEvery != null ? checkpointEvery : valEvery > 0 ? valEvery : 1000;
            return new TrainOptions(dataRoot, runDir, modalities, model, iterations, batchSize, patchSize, lr, minLr,
                    seed, loss, charbonnierEps, augment, balanced, valEvery, valSlices, ckpt, workers, prefetch,
                    cacheBytes, resume, initFrom, scaling, checkpointing);
        }
    }
}
