package org.restorerwkv.api;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.restorerwkv.checkpoint.BuiltinModels;
import org.restorerwkv.checkpoint.ModelCard;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.infer.MemoryEstimate;
import org.restorerwkv.infer.RestoreListener;
import org.restorerwkv.infer.Restorer;
import org.restorerwkv.infer.ScanRestorer;
import org.restorerwkv.infer.TilingPlan;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.Volume;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;

/**
 * A trained Restore-RWKV ready to restore scans: the network, the intensity scaling it was trained
 * with, and the native memory that holds its weights.
 *
 * <p>{@link #load(String)} reads everything the weights declare (configuration, intensity scaling,
 * and for a built-in model its card and modalities), so the caller only names the scan's modality.
 * Values in and out are physical units: HU for CT, SUV for PET, scanner units for MRI.
 *
 * <p><b>Thread safety:</b> every {@code restore} method may be called from several threads at once
 * on one model. Normalization, padding and tiling run in the calling threads; the network's passes
 * run one at a time (each already spreads its work over all cores), so results are bit-identical
 * to restoring the same slices one after another. Loading has no global side effects (no random
 * seed, no system property). {@link #close()} must not race with a running restore.
 */
public final class RestorationModel implements AutoCloseable {

    private final NDManager manager;
    private final RestoreRwkv network;
    private final Restorer slices;
    private final ScanRestorer restorer;
    private final IntensityScaling scaling;
    private final String spec;
    private final String identity;
    private final ModelCard card;

    private RestorationModel(Builder b) throws IOException {
        this.spec = b.weights;
        Path file = Weights.resolve(spec);
        this.card = BuiltinModels.isBuiltin(spec) ? BuiltinModels.bundled().card(spec.substring(BuiltinModels.PREFIX.length())) : null;
        this.scaling = Weights.scalingOf(file);
        this.identity = identityOf(spec, file);
        NDManager m = NDManager.newBaseManager(b.device); // starts the engine if it is not yet running
        // libtorch's grad mode is per thread and on in every thread but the engine's first one: the
        // load's in-place copies into the parameters must not be recorded, from whichever thread
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            this.network = Weights.loadModel(file, b.config, m);
            this.slices = new Restorer(network, m, b.batchSize, b.tile, b.overlap,
                    b.maxMemory > 0 ? b.maxMemory : MemoryEstimate.defaultBudget());
            this.restorer = new ScanRestorer(slices, scaling);
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        } finally {
            JniUtils.setGradMode(grad);
        }
        this.manager = m;
    }

    /**
     * A model from {@code builtin:NAME} (shipped inside the library; {@link #builtinNames()}) or a
     * {@code .pth} / {@code .safetensors} path, with default options.
     *
     * @throws IOException when the file cannot be read
     * @throws org.restorerwkv.io.InvalidInputException when it is not a usable checkpoint
     * @throws IllegalArgumentException for an unknown built-in name
     */
    public static RestorationModel load(String weights) throws IOException {
        return builder(weights).build();
    }

    /** As {@link #load(String)} for a weights file. */
    public static RestorationModel load(Path weights) throws IOException {
        return builder(weights.toString()).build();
    }

    /** Options for loading {@code weights} ({@code builtin:NAME} or a path). */
    public static Builder builder(String weights) {
        return new Builder(weights);
    }

    /** The names of the models shipped inside the library (use as {@code builtin:NAME}). */
    public static List<String> builtinNames() throws IOException {
        return BuiltinModels.bundled().names();
    }

    /** The built-in model used when none is named and the modality is unknown ({@code builtin:all-in-one-light}). */
    public static String defaultWeights() {
        return Weights.specOrDefault(null);
    }

    /**
     * The best bundled model for {@code modality}, as {@code builtin:NAME}: the model whose card
     * declares itself the default for it ({@code "default_for"}), else {@link #defaultWeights()}
     * (also for {@link Modality#NONE}). Today {@code builtin:mri-sr-synth-light} for MRI and
     * {@code builtin:all-in-one-light} for CT and PET.
     *
     * @throws IllegalArgumentException when no model is bundled for it
     * @throws IOException when a bundled model card cannot be read
     */
    public static String defaultWeights(Modality modality) throws IOException {
        Objects.requireNonNull(modality, "modality");
        return Weights.specOrDefault(null, modality);
    }

    /**
     * Restores a volume along its stored slices (axis 0) and returns a volume of the same shape,
     * geometry and metadata.
     */
    public Volume restore(Volume scan, Modality modality) {
        return restore(scan, modality, 0, RestoreListener.NONE);
    }

    /**
     * Restores a volume slice by slice along {@code axis} (0 = stored slices, 1 = rows, 2 = columns).
     *
     * @throws java.util.concurrent.CancellationException when the listener cancels or the thread is interrupted
     * @throws IllegalArgumentException for non-finite voxels or an image the model cannot take
     */
    public Volume restore(Volume scan, Modality modality, int axis, RestoreListener listener) {
        Objects.requireNonNull(modality, "modality");
        return restorer.restore(scan, modality, axis, listener);
    }

    /**
     * Restores raw arrays keeping their shape: (H, W), (D, H, W) as D slices, or (N, C, H, W).
     */
    public HostTensor restore(HostTensor slices, Modality modality, RestoreListener listener) {
        Objects.requireNonNull(modality, "modality");
        return restorer.restore(slices, modality, listener);
    }

    /**
     * As {@link #restore(Volume, Modality, int, RestoreListener)}, with how many voxels lay outside
     * the modality's normalization range and kept their input value (metal in CT, hot spots in PET).
     */
    public ScanRestorer.Restored<Volume> restoreCounted(Volume scan, Modality modality, int axis, RestoreListener listener) {
        Objects.requireNonNull(modality, "modality");
        return restorer.restoreCounted(scan, modality, axis, listener);
    }

    /** As {@link #restore(HostTensor, Modality, RestoreListener)}, with the passed-through count. */
    public ScanRestorer.Restored<HostTensor> restoreCounted(HostTensor slices, Modality modality, RestoreListener listener) {
        Objects.requireNonNull(modality, "modality");
        return restorer.restoreCounted(slices, modality, listener);
    }

    /** Restores one slice of {@code height x width} pixels (row-major) and returns its pixels. */
    public float[] restoreSlice(float[] pixels, int height, int width, Modality modality) {
        if ((long) height * width != pixels.length) {
            throw new IllegalArgumentException("a " + height + " x " + width + " slice needs " + (long) height * width
                    + " pixels, got " + pixels.length);
        }
        return restore(new HostTensor(new long[] {height, width}, pixels), modality, RestoreListener.NONE).data();
    }

    /**
     * How {@code count} slices of {@code height x width} will be restored: whole or in tiles, slices
     * per pass, and the estimated peak memory against the budget ({@link Builder#maxMemory}).
     *
     * @throws IllegalArgumentException when automatic tiling finds no tile that fits the budget
     */
    public TilingPlan tilingPlan(int count, int height, int width) {
        return slices.plan(count, height, width);
    }

    /** How the weights were named: {@code builtin:NAME} or the path given. */
    public String weights() {
        return spec;
    }

    /**
     * A stable identity of the weights: {@code builtin:NAME} or the file name, and the first 16 hex
     * digits of the weights file's SHA-256 (e.g. for deterministic derived-series UIDs).
     */
    public String identity() {
        return identity;
    }

    /** The network's configuration (from the weights). */
    public ModelConfig config() {
        return network.config();
    }

    /** The intensity scaling the model was trained with (from the weights). */
    public IntensityScaling scaling() {
        return scaling;
    }

    /** The modalities a built-in model's card declares; empty for a weights file (any). */
    public List<Modality> modalities() {
        return card == null ? List.of() : card.modalities();
    }

    /** A built-in model's card, or null for a weights file. */
    public ModelCard card() {
        return card;
    }

    /** Frees the native memory of the weights; the model cannot restore afterwards. */
    @Override
    public void close() {
        manager.close();
    }

    private static String identityOf(String spec, Path file) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) {
                sha.update(buf, 0, r);
            }
        }
        String name = BuiltinModels.isBuiltin(spec) ? spec : file.getFileName().toString();
        return name + "@" + HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    }

    /** Load options; every one has a default. Not thread-safe (build on one thread). */
    public static final class Builder {
        private final String weights;
        private ModelConfig config;
        private Device device = Device.cpu();
        private int batchSize = 4;
        private int tile = Restorer.AUTO;
        private int overlap = Restorer.DEFAULT_OVERLAP;
        private long maxMemory;

        private Builder(String weights) {
            this.weights = Objects.requireNonNull(weights, "weights");
        }

        /** Forces a configuration instead of the one the weights declare. */
        public Builder config(ModelConfig c) {
            config = c;
            return this;
        }

        /** Where the network runs (default CPU; a GPU needs the CUDA build). */
        public Builder device(Device d) {
            device = Objects.requireNonNull(d);
            return this;
        }

        /** Slices per network pass (default 4). */
        public Builder batchSize(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + n);
            }
            batchSize = n;
            return this;
        }

        /**
         * Fixed tiling: slices larger than {@code tile} pixels are restored in tiles overlapping by
         * {@code overlap} (blended); 0 restores every slice whole, whatever the memory.
         */
        public Builder tiling(int tile, int overlap) {
            this.tile = tile;
            this.overlap = overlap;
            return this;
        }

        /**
         * Automatic tiling (the default): slices are restored whole, with fewer slices per pass if
         * needed, whenever the estimated peak memory of a pass fits {@link #maxMemory}; only slices
         * too large for it are tiled, with the largest tile that fits, overlapping by {@code overlap}
         * (default 32). {@link RestorationModel#tilingPlan} tells what was chosen.
         */
        public Builder autoTiling(int overlap) {
            this.tile = Restorer.AUTO;
            this.overlap = overlap;
            return this;
        }

        /**
         * The memory budget of automatic tiling in bytes (beyond the loaded model); default 3/4 of
         * the JVM's maximum heap, at most half of the machine's physical memory.
         */
        public Builder maxMemory(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("the memory budget must be positive, got " + bytes);
            }
            this.maxMemory = bytes;
            return this;
        }

        public RestorationModel build() throws IOException {
            return new RestorationModel(this);
        }
    }
}
