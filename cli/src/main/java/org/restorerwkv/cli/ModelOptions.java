package org.restorerwkv.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.util.Locale;
import org.restorerwkv.api.RestorationModel;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;
import org.restorerwkv.wkv.BiWkv;
import picocli.CommandLine.Option;

/** Options shared by the commands that run a model. */
public final class ModelOptions {

    @Option(names = "--weights", paramLabel = "FILE|builtin:NAME",
            description = "Model weights: a PyTorch .pth state_dict, .safetensors, or builtin:NAME for a model shipped"
                    + " inside the program (list them with: info --models). Default: the built-in model whose card declares"
                    + " itself the default for the modality (MRI: mri-sr-synth-light; CT, PET: all-in-one-light).")
    String weights;

    @Option(names = "--config", paramLabel = "NAME|FILE",
            description = "default, light, or a JSON file (inp_channels, out_channels, dim, num_blocks, "
                    + "num_refinement_blocks, recurrence, hidden_rate, token_shift). Default: read from the weights.")
    String config;

    @Option(names = "--device", paramLabel = "cpu|gpu", defaultValue = "cpu", description = "Where to run (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads for libtorch and the fused kernels (default: all cores).")
    Integer threads;

    ModelConfig configOrNull() throws IOException {
        return config == null ? null : ModelConfig.resolve(config);
    }

    /** The device; also fixes the thread counts, before anything starts the engine. */
    Device device() {
        applyThreads();
        switch (device.toLowerCase(Locale.ROOT)) {
            case "cpu":
                return Device.cpu();
            case "gpu":
            case "cuda":
                if (Engine.getInstance().getGpuCount() == 0) {
                    throw new IllegalArgumentException("--device gpu: no CUDA GPU visible to libtorch"
                            + " (build with -Pcuda for the CUDA libtorch)");
                }
                return Device.gpu();
            default:
                throw new IllegalArgumentException("--device must be cpu or gpu, got " + device);
        }
    }

    /**
     * Fixes the CPU threads of the fused kernels and of libtorch. libtorch reads its count when the
     * engine starts (the first NDManager), so {@link #device()} calls this first; left at all
     * cores, its OpenMP threads spin while waiting and, on a machine shared with other jobs, cost
     * several times the work (measured: light model, 4 slices of 256^2, --threads 1 on a loaded
     * 2-core machine: 24.2 s CPU with libtorch on 2 threads, 6.5 s on 1).
     */
    void applyThreads() {
        applyThreads(threads);
    }

    /** {@link #applyThreads()} for commands with their own --threads option (null: leave the defaults). */
    static void applyThreads(Integer threads) {
        if (threads != null) {
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
            }
            System.setProperty("ai.djl.pytorch.num_threads", threads.toString());
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
            BiWkv.setThreads(threads);
        }
    }

    /** --weights, or the default built-in model when it is absent (one line on stderr says which). */
    String weightsOrDefault() {
        if (weights != null) {
            return weights;
        }
        String spec = Weights.specOrDefault(null);
        System.err.println("weights: " + spec + " (default; --weights FILE|builtin:NAME chooses others)");
        return spec;
    }

    /**
     * --weights, or the bundled default for {@code modality} when it is absent (one line on stderr
     * says which: {@link RestorationModel#defaultWeights(Modality)}).
     */
    String weightsOrDefault(Modality modality) throws IOException {
        if (weights != null) {
            return weights;
        }
        String spec = RestorationModel.defaultWeights(modality);
        announceDefault(spec, modality);
        return spec;
    }

    /** The one stderr line saying that {@code spec} is the default model used for {@code modality}. */
    static void announceDefault(String spec, Modality modality) {
        System.err.println("weights: " + spec + " (default for " + modality
                + "; --weights FILE|builtin:NAME chooses others)");
    }

    /**
     * The model from --weights (else the default built-in one) through the library's API, with
     * --config, --device and the given batching and tiling.
     */
    RestorationModel open(int batch, int tile, int overlap) throws IOException {
        return open(weightsOrDefault(), batch, tile, overlap, 0);
    }

    /**
     * The model {@code spec} through the library's API, with --config and --device; tile {@link org.restorerwkv.infer.Restorer#AUTO} tiles by
     * memory within maxMemory bytes (0: the default budget).
     */
    RestorationModel open(String spec, int batch, int tile, int overlap, long maxMemory) throws IOException {
        Device d = device();
        RestorationModel.Builder b = RestorationModel.builder(spec).config(configOrNull()).device(d)
                .batchSize(batch);
        if (tile == org.restorerwkv.infer.Restorer.AUTO) {
            b.autoTiling(overlap);
        } else {
            b.tiling(tile, overlap);
        }
        if (maxMemory > 0) {
            b.maxMemory(maxMemory);
        }
        return b.build();
    }

    /** A size such as 4g, 512m, 800k or a byte count. */
    static long parseBytes(String option, String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (!t.isEmpty() && "kmgt".indexOf(t.charAt(t.length() - 1)) >= 0) {
            unit = 1L << (10 * ("kmgt".indexOf(t.charAt(t.length() - 1)) + 1));
            t = t.substring(0, t.length() - 1);
        }
        try {
            double v = Double.parseDouble(t);
            if (v > 0 && v * unit < Long.MAX_VALUE) {
                return (long) (v * unit);
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalArgumentException(option + " must be a positive size such as 4g, 512m or 800k, got " + s);
    }

    /** The model from --weights, else the default built-in one (config from --config or the file). */
    RestoreRwkv load(NDManager manager) throws IOException {
        return load(manager, weightsOrDefault());
    }

    /** The model from a weights argument (file or builtin:NAME), config from --config or the file. */
    RestoreRwkv load(NDManager manager, String spec) throws IOException {
        applyThreads();
        return Weights.loadModel(spec, configOrNull(), manager);
    }
}
