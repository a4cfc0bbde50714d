package org.restorerwkv.checkpoint;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;

/**
 * Model weights in either container: PyTorch {@code .pth} (recognized by its zip magic) or
 * safetensors; both use the reference's state_dict key names. A weights argument is a file or
 * {@code builtin:NAME}, a model shipped inside the program ({@link BuiltinModels}); {@link #resolve}
 * is where the two meet.
 */
public final class Weights {

    /** safetensors metadata key under which this project stores the model config as JSON. */
    public static final String CONFIG_METADATA = "restore_rwkv.config";

    private Weights() {}

    /**
     * The file a weights argument names: {@code builtin:NAME} is a bundled model (read from the
     * class path, so it works from the jar), anything else a path.
     *
     * @throws IllegalArgumentException for an unknown built-in name, listing the bundled ones
     */
    public static Path resolve(String spec) throws IOException {
        return BuiltinModels.bundled().resolve(spec);
    }

    /**
     * The weights argument to use: {@code spec} when given, else {@code builtin:all-in-one-light}
     * when bundled.
     *
     * @throws IllegalArgumentException when none is given and no default model is bundled
     */
    public static String specOrDefault(String spec) {
        return spec != null ? spec : BuiltinModels.bundled().defaultSpec();
    }

    /**
     * The weights argument to use for {@code modality}: {@code spec} when given, else the bundled
     * default for the modality ({@link BuiltinModels#defaultSpec(Modality)}).
     */
    public static String specOrDefault(String spec, Modality modality) throws IOException {
        return spec != null ? spec : BuiltinModels.bundled().defaultSpec(modality);
    }

    /** The model a weights argument (file or {@code builtin:NAME}) describes, as {@link #loadModel(Path, ModelConfig, NDManager)}. */
    public static RestoreRwkv loadModel(String spec, ModelConfig config, NDManager manager) throws IOException {
        return loadModel(resolve(spec), config, manager);
    }

    /**
     * The intensity scaling a weights file (file or {@code builtin:NAME}) was trained with: its
     * safetensors metadata, else {@link IntensityScaling#FIXED} (a .pth, the reference protocol).
     */
    public static IntensityScaling scalingOf(String spec) throws IOException {
        return scalingOf(resolve(spec));
    }

    /** As {@link #scalingOf(String)} for a file. */
    public static IntensityScaling scalingOf(Path file) throws IOException {
        if (!Checkpoints.isSafetensors(file)) {
            return IntensityScaling.FIXED;
        }
        try {
            return IntensityScaling.parse(Safetensors.readMetadata(file).get(IntensityScaling.METADATA));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file, e.getMessage());
        }
    }

    /** Key prefix of the optimizer state that training checkpoints carry next to the weights. */
    public static final String OPTIMIZER_PREFIX = "optimizer.";

    /** Reads a state dict from a .pth or .safetensors file (chosen by content, not name). */
    public static LinkedHashMap<String, HostTensor> read(Path file) throws IOException {
        return Checkpoints.read(file);
    }

    /**
     * The model's tensors of a weights file: {@link #read} without the optimizer state that a
     * training checkpoint (train's latest.safetensors) carries next to them.
     */
    public static LinkedHashMap<String, HostTensor> readModelState(Path file) throws IOException {
        return modelState(read(file));
    }

    /** The model's tensors of a state dict as read: a copy without the optimizer state. */
    public static LinkedHashMap<String, HostTensor> modelState(Map<String, HostTensor> all) {
        LinkedHashMap<String, HostTensor> state = new LinkedHashMap<>(all);
        state.keySet().removeIf(k -> k.startsWith(OPTIMIZER_PREFIX));
        return state;
    }

    /**
     * Writes .safetensors (with the config and the intensity scaling in its metadata) or .pth, by the
     * file's extension (a .pth has no metadata: it loads as {@link IntensityScaling#FIXED}).
     */
    public static void write(Path file, Map<String, HostTensor> state, ModelConfig config, IntensityScaling scaling)
            throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        if (config != null) {
            meta.put(CONFIG_METADATA, config.toJson());
        }
        if (scaling != IntensityScaling.FIXED) {
            meta.put(IntensityScaling.METADATA, scaling.id());
        }
        Checkpoints.write(file, state, meta);
    }

    /**
     * The model a weights file describes: its config is read from the file (safetensors metadata,
     * else the tensor shapes) unless one is given, and every key must fit.
     */
    public static RestoreRwkv loadModel(Path file, ModelConfig config, NDManager manager) throws IOException {
        LinkedHashMap<String, HostTensor> state = readModelState(file);
        ModelConfig c = config != null ? config : configOf(file, state);
        RestoreRwkv model = new RestoreRwkv(c);
        RestoreRwkv.KeyCheck check = model.check(state);
        if (!check.ok()) {
            throw new InvalidInputException(file, "does not fit the model (" + c + "): " + check.describe());
        }
        model.initializeForLoading(manager);
        try {
            model.load(state);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file, e.getMessage());
        }
        return model;
    }

    /** The config stored with a checkpoint, or the one its shapes imply. */
    public static ModelConfig configOf(Path file, Map<String, HostTensor> state) throws IOException {
        if (Checkpoints.isSafetensors(file)) {
            String json = Safetensors.readMetadata(file).get(CONFIG_METADATA);
            if (json != null) {
                try {
                    return ModelConfig.fromJson(json);
                } catch (RuntimeException e) {
                    throw new InvalidInputException(file, "bad model config in metadata: " + e.getMessage());
                }
            }
        }
        Map<String, long[]> shapes = new LinkedHashMap<>();
        state.forEach((k, t) -> shapes.put(k, t.shape()));
        try {
            return ModelConfig.inferFrom(shapes);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file, e.getMessage());
        }
    }
}
