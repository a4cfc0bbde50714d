package org.restorerwkv.cli;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.restorerwkv.checkpoint.BuiltinModels;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.demo.Demo;
import org.restorerwkv.infer.Restorer;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.infer.ScanRestorer;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.model.RestoreRwkv;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Degrades the bundled sample slices, restores them and shows the result: no data or network needed. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Restore the bundled samples: a chest CT slice at a quarter dose, an MR brain slice at 4x k-space",
            "truncation and a PET phantom of that slice at a quarter of the counts (simulated with fixed seeds; all held-out",
            "test data), each with the built-in model that is the default for its modality (or --weights). Writes",
            "OUT/{ct,mri,pet}.png (degraded | restored | reference | |error|), metrics.csv and metrics.md, and prints the",
            "metrics (PSNR/SSIM/RMSE as eval computes them) with the model of each row."})
public final class DemoCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--out", defaultValue = "demo-output", paramLabel = "DIR", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new InvalidInputException(out, "exists and is not a folder");
        }
        // --weights: one model for the modalities of its card (all three for a file); else each
        // modality's bundled default (one line each on stderr)
        List<Modality> modalities = model.weights == null ? List.of(Modality.CT, Modality.MRI, Modality.PET)
                : BuiltinModels.isBuiltin(model.weights)
                        ? BuiltinModels.bundled().card(model.weights.substring(BuiltinModels.PREFIX.length())).modalities()
                        : List.of(Modality.CT, Modality.MRI, Modality.PET);
        Map<Modality, String> specs = new LinkedHashMap<>();
        for (Modality m : modalities) {
            specs.put(m, model.weightsOrDefault(m));
        }
        List<Demo.Result> results = new ArrayList<>();
        List<Path> written = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            Map<String, ScanRestorer> restorers = new LinkedHashMap<>();
            for (Modality m : modalities) {
                String spec = specs.get(m);
                ScanRestorer restorer = restorers.get(spec);
                if (restorer == null) {
                    RestoreRwkv net = model.load(manager, spec);
                    if (net.config().inpChannels() != 1 || net.config().outChannels() != 1) {
                        throw new IllegalArgumentException("the demo restores one-channel slices; " + spec + " has "
                                + net.config().inpChannels() + " input and " + net.config().outChannels() + " output channels");
                    }
                    restorer = new ScanRestorer(new Restorer(net, manager, 1, Restorer.DEFAULT_TILE, Restorer.DEFAULT_OVERLAP),
                            Weights.scalingOf(spec));
                    restorers.put(spec, restorer);
                }
                long t1 = System.nanoTime();
                Demo.Case c = Demo.cases(List.of(m)).get(0);
                long t2 = System.nanoTime();
                Demo.Result r = Demo.restore(restorer, spec, c);
                Path png = out.resolve(c.modality().name().toLowerCase(Locale.ROOT) + ".png");
                Demo.writePanel(png, r);
                written.add(png);
                results.add(r);
                System.err.printf(Locale.ROOT, "%s: %s, %s simulated in %.1f s, restored with %s in %.1f s -> %s%n", m,
                        c.sample(), c.degradation(), (t2 - t1) / 1e9, spec, (System.nanoTime() - t2) / 1e9, png);
            }
        }
        String table = Demo.table(results);
        Demo.writeText(out.resolve("metrics.csv"), Demo.csv(results));
        Demo.writeText(out.resolve("metrics.md"), "Restore-RWKV demo; input and restored slice vs the reference, metrics"
                + " after the modality's evaluation window (CT [-160, 240] HU). The MRI and PET samples come from the"
                + " held-out MRI test series (never used in training or model selection).\n\n" + table);
        System.out.print(table);
        System.out.printf(Locale.ROOT, "wrote %s (%d panels, metrics.csv, metrics.md) in %.1f s%n", out, written.size(),
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
