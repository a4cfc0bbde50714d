package org.restorerwkv.cli;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.restorerwkv.data.Modality;
import org.restorerwkv.infer.Restorer;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Npy;
import org.restorerwkv.model.RestoreRwkv;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Restores an image or a stack of slices with a trained model. */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Restore a degraded scan: IN.npy as (H,W), (D,H,W) slices or (N,C,H,W); OUT has the same shape.")
public final class RestoreCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--input", required = true, paramLabel = "IN", description = "Input file.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "OUT", description = "Output file (never the input).")
    Path output;

    @Option(names = "--modality", defaultValue = "none", paramLabel = "ct|mri|pet|none",
            description = "Normalization before the network and back after; none passes raw values (default: ${DEFAULT-VALUE}).")
    String modality;

    @Option(names = "--batch", defaultValue = "4", paramLabel = "N", description = "Slices per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public Integer call() throws Exception {
        Modality mod = Modality.parse(modality);
        if (!Files.exists(input)) {
            throw new InvalidInputException(input, "no such file");
        }
        if (Files.exists(output) && Files.isSameFile(input, output)) {
            throw new InvalidInputException(output, "the output would overwrite the input");
        }
        HostTensor in = Npy.read(input);
        long t0 = System.nanoTime();
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            RestoreRwkv net = model.load(manager);
            HostTensor y;
            try {
                HostTensor x = new HostTensor(in.shape(), mod.normalize(in.data()));
                y = new Restorer(net, manager, batch).restore(x);
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(input, e.getMessage());
            }
            Npy.write(output, new HostTensor(y.shape(), mod.denormalize(y.data())));
        }
        System.err.printf(Locale.ROOT, "restored %s -> %s in %.2f s%n", input, output, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
