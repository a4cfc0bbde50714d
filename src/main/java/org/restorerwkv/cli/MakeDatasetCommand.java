package org.restorerwkv.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.restorerwkv.data.DatasetBuilder;
import org.restorerwkv.data.Simulation;
import org.restorerwkv.degrade.PetLowCount;
import org.restorerwkv.io.InvalidInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Builds a paired LQ/HQ dataset from a folder of full-quality scans. */
@Command(name = "make-dataset", mixinStandardHelpOptions = true,
        description = {"Build a paired LQ/HQ dataset from a folder of full-quality scans.",
            "Degrade every scan of a folder (a file, or a folder holding one DICOM series) into LQ/HQ"
                + " pairs under ROOT/{CT|MRI|PET}/{train,validation,test}/{LQ,HQ}/, split by scan, with a manifest"
                + " ROOT/manifest-{CT|MRI|PET}.json."},
        footerHeading = "%nExamples:%n",
        footer = {
            "  make-dataset --task ct-lowdose --dose 0.25 --input scans --out data --seed 1",
            "  make-dataset --task mri-sr --scale 4 --input t1 --out data --format nii.gz",
            "  make-dataset --task pet-lowcount --fraction 0.25 --pet-from-t1 \\",
            "      --input t1 --out data"})
public final class MakeDatasetCommand implements Callable<Integer> {

    @Mixin
    SimulationOptions simulation;

    @Option(names = "--input", required = true, paramLabel = "DIR", description = "Folder of full-quality scans.")
    Path input;

    @Option(names = "--out", required = true, paramLabel = "ROOT", description = "Dataset root (its modality folder must not exist yet).")
    Path out;

    @Option(names = "--split", paramLabel = "TRAIN,VAL,TEST", description = "Fractions of the scans (default: ${DEFAULT-VALUE}).")
    String split = "0.8,0.1,0.1";

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the split shuffle and the noise (default: ${DEFAULT-VALUE}).")
    long seed = 0;

    @Option(names = "--format", paramLabel = "npy|nii.gz", description = "Pair file format (default: ${DEFAULT-VALUE}).")
    String format = "npy";

    @Option(names = "--pet-from-t1", description = "pet-lowcount only: the inputs are T1 MRIs; HQ is their pet-phantom"
            + " and LQ its low-count version (mode defaults to noiseless-input).")
    boolean petFromT1;

    @Override
    public Integer call() throws Exception {
        Simulation phantom = null;
        Simulation sim;
        if (petFromT1) {
            if (!PetLowCount.TASK.equals(simulation.task)) {
                throw new IllegalArgumentException("--pet-from-t1 needs --task pet-lowcount");
            }
            sim = Simulation.parse(simulation.task, simulation.params(Map.of("mode", "noiseless-input")));
            phantom = Simulation.parse(Simulation.PET_PHANTOM, Map.of());
        } else {
            sim = simulation.simulation();
        }
        DatasetBuilder builder = new DatasetBuilder(sim, phantom, DatasetBuilder.parseSplit(split), seed,
                DatasetBuilder.Format.parse(format), simulation.threads);
        if (!Files.isDirectory(input)) {
            throw new InvalidInputException(input, "not a folder of scans");
        }
        long t0 = System.nanoTime();
        DatasetBuilder.Result r = builder.build(input, out);
        System.err.printf(Locale.ROOT, "made %s: %d scans (train %d, validation %d, test %d), manifest %s (%.2f s)%n",
                r.modalityDir(), r.entries().size(), r.counts()[0], r.counts()[1], r.counts()[2], r.manifest(),
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
