package org.restorerwkv.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.restorerwkv.data.Simulation;
import org.restorerwkv.degrade.Degradations;
import picocli.CommandLine.Option;

/** The task and its parameters, shared by {@code simulate} and {@code make-dataset}. */
final class SimulationOptions {

    @Option(names = "--task", required = true, paramLabel = "TASK",
            description = "ct-lowdose, mri-sr, pet-lowcount or pet-phantom (T1 MRI -> FDG PET activity).")
    String task;

    @Option(names = "--dose", paramLabel = "D", description = "ct-lowdose: fraction of the full dose, (0,1] (e.g. 0.25 or 1/4).")
    String dose;

    @Option(names = "--scale", paramLabel = "S", description = "mri-sr: k-space kept per axis is the central 1/S (e.g. 4).")
    String scale;

    @Option(names = "--fraction", paramLabel = "F", description = "pet-lowcount: fraction of the counts, (0,1] (e.g. 0.25).")
    String fraction;

    @Option(names = "--param", paramLabel = "K=V[,K=V...]",
            description = "More simulator parameters (repeatable), e.g. views=360,filter=hann; see docs/simulators.md.")
    List<String> param = new ArrayList<>();

    @Option(names = "--threads", paramLabel = "N", description = "Slices processed in parallel (default: all cores).")
    int threads = Runtime.getRuntime().availableProcessors();

    /** Task and parameters as one validated simulation. */
    Simulation simulation() {
        return Simulation.parse(task, params(Map.of()));
    }

    /** The parameters: --param entries, the shortcut options, then {@code defaults} for keys still missing. */
    Map<String, String> params(Map<String, String> defaults) {
        Map<String, String> p = Degradations.parseParams(String.join(",", param));
        put(p, "dose", dose);
        put(p, "scale", scale);
        put(p, "fraction", fraction);
        defaults.forEach(p::putIfAbsent);
        return p;
    }

    private static void put(Map<String, String> p, String key, String value) {
        if (value != null && p.put(key, value.strip()) != null) {
            throw new IllegalArgumentException("parameter " + key + " given twice (--" + key + " and --param)");
        }
    }
}
