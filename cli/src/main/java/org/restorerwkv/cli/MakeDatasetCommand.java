package org.restorerwkv.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.restorerwkv.data.DatasetBuilder;
import org.restorerwkv.data.Simulation;
import org.restorerwkv.data.Split;
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
                + " ROOT/manifest-{CT|MRI|PET}.json.",
            "Either --input DIR (split by --split fractions after a seeded shuffle) or one folder per split"
                + " with --train/--validation/--test DIR (every scan of a folder goes to that split; splits"
                + " not given stay empty)."},
        footerHeading = "%nExamples:%n",
        footer = {
            "  make-dataset --task ct-lowdose --dose 0.25 --input scans --out data --seed 1",
            "  make-dataset --task mri-sr --scale 4 --input t1 --out data --format nii.gz",
            "  make-dataset --task pet-lowcount --fraction 0.25 --pet-from-t1 \\",
            "      --input t1 --out data",
            "  make-dataset --task mri-sr --scale 4 --train t1/train --validation t1/val \\",
            "      --test t1/test --out data --min-content 0.05 --train-axes 0,1,2",
            "  make-dataset --task mri-sr --scale 4 --train t1/train --validation t1/val \\",
            "      --test t1/test --out data --train-axes 0,1,2 --synth 4"})
public final class MakeDatasetCommand implements Callable<Integer> {

    @Mixin
    SimulationOptions simulation;

    @Option(names = "--input", paramLabel = "DIR", description = "Folder of full-quality scans, split by --split.")
    Path input;

    @Option(names = "--train", paramLabel = "DIR", description = "Folder whose scans all go to train (instead of --input).")
    Path trainDir;

    @Option(names = "--validation", paramLabel = "DIR", description = "Folder whose scans all go to validation.")
    Path validationDir;

    @Option(names = "--test", paramLabel = "DIR", description = "Folder whose scans all go to test.")
    Path testDir;

    @Option(names = "--min-content", paramLabel = "F", description = "Keep only the slices from the first to the last"
            + " whose HQ has at least this fraction of foreground voxels (above min + 10%% of the min..99.5th percentile"
            + " range); 0 keeps all (default: ${DEFAULT-VALUE}).")
    double minContent = 0;

    @Option(names = "--out", required = true, paramLabel = "ROOT", description = "Dataset root (its modality folder must not exist yet).")
    Path out;

    @Option(names = "--split", paramLabel = "TRAIN,VAL,TEST", description = "Fractions of the --input scans (default: 0.8,0.1,0.1).")
    String split;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the split shuffle and the noise (default: ${DEFAULT-VALUE}).")
    long seed = 0;

    @Option(names = "--format", paramLabel = "npy|nii.gz", description = "Pair file format (default: ${DEFAULT-VALUE}).")
    String format = "npy";

    @Option(names = "--train-axes", split = ",", paramLabel = "A", description = "Slice every train scan along"
            + " these axes, each written as its own pair STEM.axisN (0 = stored slices, 1 = one per row, 2 = one per"
            + " column; for isotropic volumes, three views of the anatomy); validation and test keep the stored"
            + " slices (default: 0).")
    int[] trainAxes = {0};

    @Option(names = "--synth", paramLabel = "N", description = "mri-sr only: besides its real pair, each train scan"
            + " view gets N contrast- and shape-randomized pairs STEM.synthK (SynthSR-style: random tissue intensities,"
            + " affine and elastic deformation, bias field, blur, gamma, Rician noise; see docs/training.md);"
            + " validation and test stay real (default: ${DEFAULT-VALUE}).")
    int synth = 0;

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
        Map<Split, Path> folders = new EnumMap<>(Split.class);
        if (trainDir != null) {
            folders.put(Split.TRAIN, trainDir);
        }
        if (validationDir != null) {
            folders.put(Split.VALIDATION, validationDir);
        }
        if (testDir != null) {
            folders.put(Split.TEST, testDir);
        }
        if ((input == null) == folders.isEmpty()) {
            throw new IllegalArgumentException("give either --input DIR or folders per split (--train, --validation,"
                    + " --test), not both");
        }
        if (!folders.isEmpty() && split != null) {
            throw new IllegalArgumentException("--split applies to --input; with --train/--validation/--test the"
                    + " folders are the split");
        }
        DatasetBuilder builder = new DatasetBuilder(sim, phantom,
                DatasetBuilder.parseSplit(split == null ? "0.8,0.1,0.1" : split), seed,
                DatasetBuilder.Format.parse(format), simulation.threads, minContent, trainAxes, synth);
        for (Path dir : input != null ? List.of(input) : List.copyOf(folders.values())) {
            if (!Files.isDirectory(dir)) {
                throw new InvalidInputException(dir, "not a folder of scans");
            }
        }
        long t0 = System.nanoTime();
        DatasetBuilder.Result r = input != null ? builder.build(input, out) : builder.build(folders, out);
        System.err.printf(Locale.ROOT, "made %s: %d pairs from %d scans (train %d, validation %d, test %d), manifest"
                + " %s (%.2f s)%n", r.modalityDir(), r.entries().size(), r.counts()[0] + r.counts()[1] + r.counts()[2],
                r.counts()[0], r.counts()[1], r.counts()[2], r.manifest(),
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
