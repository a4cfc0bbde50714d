package org.restorerwkv.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.restorerwkv.checkpoint.BuiltinModels;
import org.restorerwkv.checkpoint.ModelCard;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;
import org.restorerwkv.model.TokenShift;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Prints a configuration, its parameter counts and, with --weights, the checkpoint's key check (and
 * a built-in model's card); with --models, the built-in models.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the model configuration, parameter counts and a checkpoint's key check; --models lists the"
                + " built-in models with their model cards (data, licences, training, metrics).")
public final class InfoCommand implements Callable<Integer> {

    @Mixin
    ModelOptions opts;

    @Option(names = "--models", description = "List the built-in models (use one as --weights builtin:NAME).")
    boolean models;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        if (models) {
            listModels(out);
            return 0;
        }
        ModelConfig config = opts.configOrNull();
        LinkedHashMap<String, HostTensor> state = null;
        String configSource = opts.config;
        Path file = null;
        int optimizerTensors = 0;
        if (opts.weights != null) {
            file = Weights.resolve(opts.weights);
            LinkedHashMap<String, HostTensor> all = Weights.read(file);
            state = Weights.modelState(all);
            optimizerTensors = all.size() - state.size();
            if (config == null) {
                config = Weights.configOf(file, state);
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
        out.printf(Locale.ROOT, "token shift: %s; recurrence: %d (%s)%n", describe(config.tokenShift()), config.recurrence(),
                config.recurrence() == 1 ? "Bi-WKV, one row-major scan" : "Re-WKV, row-major and column-major scans in turn");
        out.printf(Locale.ROOT, "parameters, inference form: %,d%s%n", model.inferenceParameterCount(),
                config.tokenShift() == TokenShift.OMNI ? " (Omni-Shift re-parameterized)" : "");
        out.printf(Locale.ROOT, "engine: %s %s, DJL %s, devices: cpu%s%n", Engine.getInstance().getEngineName(),
                Engine.getInstance().getVersion(), Engine.getDjlVersion(),
                Engine.getInstance().getGpuCount() > 0 ? " + " + Engine.getInstance().getGpuCount() + " gpu" : "");
        if (state != null) {
            RestoreRwkv.KeyCheck check = model.check(state);
            long values = state.values().stream().mapToLong(t -> t.data().length).sum();
            out.printf(Locale.ROOT, "weights: %s: %d tensors, %,d values%s%n", opts.weights, state.size(), values,
                    optimizerTensors > 0 ? " (a training checkpoint: its " + optimizerTensors + " optimizer tensors are not counted)" : "");
            out.println("key check: " + (check.ok() ? "OK, every key and shape matches" : check.describe()));
            out.println("intensity scaling: " + Weights.scalingOf(file).id());
            if (!check.ok()) {
                throw new InvalidInputException(file, "does not fit the model: " + check.describe());
            }
            if (BuiltinModels.isBuiltin(opts.weights)) {
                out.println("model card:");
                BuiltinModels.bundled().card(opts.weights.substring(BuiltinModels.PREFIX.length())).summary()
                        .forEach(l -> out.println("  " + l));
            }
            try (NDManager m = NDManager.newBaseManager()) {
                model.initialize(m, 0);
                model.load(state);
            }
        }
        return 0;
    }

    static String describe(TokenShift shift) {
        return shift.id() + switch (shift) {
            case OMNI -> " (Omni-Shift, the reference's)";
            case QUAD -> " (Quad-Shift of Vision-RWKV)";
            case UNI -> " (Uni-Shift of RWKV-4)";
            case NONE -> " (no token shift)";
        };
    }

    /** Every built-in model's card, and which one is used when no --weights is given. */
    static void listModels(PrintStream out) throws IOException {
        BuiltinModels b = BuiltinModels.bundled();
        List<String> names = b.names();
        if (names.isEmpty()) {
            out.println("no built-in models in this build (" + BuiltinModels.RESOURCE_DIR + "NAME.safetensors + NAME.json)");
            return;
        }
        List<String> defaults = new java.util.ArrayList<>();
        for (org.restorerwkv.domain.Modality m : List.of(org.restorerwkv.domain.Modality.CT,
                org.restorerwkv.domain.Modality.MRI, org.restorerwkv.domain.Modality.PET)) {
            try {
                defaults.add(m + " " + b.defaultSpec(m));
            } catch (IllegalArgumentException e) {
                defaults.add(m + " none (" + e.getMessage() + ")");
            }
        }
        out.println("built-in models (--weights " + BuiltinModels.PREFIX + "NAME; without --weights, restore, eval and demo use"
                + " each modality's default: " + String.join(", ", defaults) + "):");
        for (String n : names) {
            ModelCard card = b.card(n);
            RestoreRwkv model = new RestoreRwkv(card.config());
            List<String> lines = card.summary();
            out.println();
            out.printf(Locale.ROOT, "%s%s (%,d parameters)%n", BuiltinModels.PREFIX, lines.get(0), model.inferenceParameterCount());
            lines.subList(1, lines.size()).forEach(out::println);
        }
    }
}
