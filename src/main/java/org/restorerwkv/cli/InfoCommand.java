package org.restorerwkv.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Prints a configuration, its parameter counts and, with --weights, the checkpoint's key check. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the model configuration, parameter counts and a checkpoint's key check.")
public final class InfoCommand implements Callable<Integer> {

    @Mixin
    ModelOptions opts;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        ModelConfig config = opts.configOrNull();
        LinkedHashMap<String, HostTensor> state = null;
        String configSource = opts.config;
        if (opts.weights != null) {
            state = Weights.read(opts.weights);
            if (config == null) {
                config = Weights.configOf(opts.weights, state);
                configSource = "read from " + opts.weights;
            }
        }
        if (config == null) {
            config = ModelConfig.DEFAULT;
            configSource = "default";
        }
        RestoreRwkv model = new RestoreRwkv(config);
        out.printf(Locale.ROOT, "config (%s): %s%n", configSource, config);
        out.printf(Locale.ROOT, "parameters, training form:  %,d%n", model.parameterCount());
        out.printf(Locale.ROOT, "parameters, inference form: %,d (Omni-Shift re-parameterized)%n", model.inferenceParameterCount());
        out.printf(Locale.ROOT, "engine: %s %s, DJL %s, devices: cpu%s%n", Engine.getInstance().getEngineName(),
                Engine.getInstance().getVersion(), Engine.getDjlVersion(),
                Engine.getInstance().getGpuCount() > 0 ? " + " + Engine.getInstance().getGpuCount() + " gpu" : "");
        if (state != null) {
            RestoreRwkv.KeyCheck check = model.check(state);
            long values = state.values().stream().mapToLong(t -> t.data().length).sum();
            out.printf(Locale.ROOT, "weights: %s: %d tensors, %,d values%n", opts.weights, state.size(), values);
            out.println("key check: " + (check.ok() ? "OK, every key and shape matches" : check.describe()));
            if (!check.ok()) {
                throw new InvalidInputException(opts.weights, "does not fit the model: " + check.describe());
            }
            try (NDManager m = NDManager.newBaseManager()) {
                model.initialize(m, 0);
                model.load(state);
            }
        }
        return 0;
    }
}
