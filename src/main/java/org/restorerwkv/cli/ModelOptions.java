package org.restorerwkv.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;
import org.restorerwkv.wkv.BiWkv;
import picocli.CommandLine.Option;

/** Options shared by the commands that run a model. */
public final class ModelOptions {

    @Option(names = "--weights", paramLabel = "FILE", description = "Model weights: a PyTorch .pth state_dict or .safetensors.")
    Path weights;

    @Option(names = "--config", paramLabel = "NAME|FILE",
            description = "default, light, or a JSON file (inp_channels, out_channels, dim, num_blocks, "
                    + "num_refinement_blocks). Default: read from the weights.")
    String config;

    @Option(names = "--device", paramLabel = "cpu|gpu", defaultValue = "cpu", description = "Where to run (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads for the fused kernels (default: all cores).")
    Integer threads;

    ModelConfig configOrNull() throws IOException {
        return config == null ? null : ModelConfig.resolve(config);
    }

    Device device() {
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

    void applyThreads() {
        if (threads != null) {
            BiWkv.setThreads(threads);
        }
    }

    /** The model from --weights (config from --config or the file). */
    RestoreRwkv load(NDManager manager) throws IOException {
        applyThreads();
        if (weights == null) {
            throw new IllegalArgumentException("--weights FILE is required");
        }
        return Weights.loadModel(weights, configOrNull(), manager);
    }
}
