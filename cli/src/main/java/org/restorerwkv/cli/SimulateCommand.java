package org.restorerwkv.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.restorerwkv.data.Simulation;
import org.restorerwkv.io.ImageFormat;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Panels;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.io.dicom.Derivation;
import org.restorerwkv.eval.Evaluation;
import org.restorerwkv.eval.MetricAccumulator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Degrades one scan (or makes a PET phantom from a T1 MRI), slice by slice. */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = {"Simulate a low-quality scan: CT low dose, MRI k-space truncation, PET low count; or a PET phantom.",
            "Simulate the low-quality version of a scan, slice by slice, in physical units"
                + " (CT HU, MRI intensity, PET SUV); the output keeps the input's geometry and metadata,"
                + " its format follows OUT's extension."},
        footerHeading = "%nExamples:%n",
        footer = {
            "  simulate --task ct-lowdose --dose 0.25 --seed 1 --input ct.dcm --output qd.nii",
            "  simulate --task mri-sr --scale 4 --input t1_series/ --output t1_x4.nii.gz",
            "  simulate --task pet-lowcount --fraction 0.25 --input pet.nii --output lc.nii",
            "  simulate --task pet-phantom --input t1.nii.gz --output pet.nii.gz"})
public final class SimulateCommand implements Callable<Integer> {

    @Mixin
    SimulationOptions simulation;

    @Mixin
    ReadLimitOptions readLimits;

    @Option(names = "--input", required = true, paramLabel = "IN",
            description = "Scan: NIfTI, DICOM file or series folder, NPY/NPZ, PNG, TIFF.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "OUT",
            description = "Output (never the input): .nii/.nii.gz, .dcm, a folder (DICOM series), .npy, .npz, .png, .tif.")
    Path output;

    @Mixin
    DicomOutputOptions dicom;

    @Option(names = "--seed", paramLabel = "S", description = "Noise seed; slice k uses Seeds.forSlice(S, k) (default: ${DEFAULT-VALUE}).")
    long seed = 0;

    @Option(names = "--panel", paramLabel = "FILE.png",
            description = "Also write a picture of one slice: input | output | |difference| (phantom: T1 | PET).")
    Path panel;

    @Option(names = "--panel-slice", paramLabel = "K", description = "Slice shown in the panel (default: the middle one).")
    Integer panelSlice;

    @Option(names = "--window", paramLabel = "LO,HI",
            description = "Panel grey window for the images (default: CT [-160,240] HU, else [0, 99.5th percentile]).")
    String window;

    @Override
    public Integer call() throws Exception {
        Simulation sim = simulation.simulation();
        dicom.apply(Derivation.converted()); // refuse bad DICOM options before any work
        ImageFormat.Window win = window == null ? null : parseWindow(window);
        if (!Files.exists(input)) {
            throw new InvalidInputException(input, "no such file or directory");
        }
        VolumeFormats.OutputKind kind = VolumeFormats.outputKind(output);
        refuseOverwrite(input, output);
        VolumeFormats.checkWritable(output);
        if (panel != null) {
            if (!panel.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
                throw new InvalidInputException(panel, "the panel is a PNG picture: name it .png");
            }
            refuseOverwrite(input, panel);
            if (panel.toAbsolutePath().normalize().equals(output.toAbsolutePath().normalize())) {
                throw new InvalidInputException(panel, "the panel would overwrite the output");
            }
            org.restorerwkv.io.AtomicFiles.checkWritableFile(panel);
        }
        long t0 = System.nanoTime();
        Volume in = VolumeFormats.read(input, readLimits.limits());
        long bad = VolumeFormats.countNonFinite(in.voxels());
        if (bad > 0) {
            throw new InvalidInputException(input, bad + " voxel(s) are NaN or infinite; simulate needs finite values");
        }
        Simulation.Bound bound;
        try {
            bound = sim.bind(in);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(input, e.getMessage());
        }
        int k = panelSlice == null ? in.depth() / 2 : panelSlice;
        if (panel != null && (k < 0 || k >= in.depth())) {
            throw new IllegalArgumentException("--panel-slice " + k + " is outside the " + in.depth() + " slices");
        }
        Volume out = Simulation.apply(in, bound.op(), seed, simulation.threads, input);
        VolumeFormats.write(output, out, dicom.apply(Derivation.simulated(bound.description())));
        if ((kind == VolumeFormats.OutputKind.PNG || kind == VolumeFormats.OutputKind.TIFF) && outside16Bit(out)) {
            System.err.println("note: " + output + " stores grey levels 0..65535; values outside were clipped");
        }
        System.err.printf(Locale.ROOT, "simulated %s -> %s: %d slice(s) %dx%d, seed %d, %s (%.2f s)%n", input, output,
                in.depth(), in.height(), in.width(), seed, bound.description(), (System.nanoTime() - t0) / 1e9);
        if (sim.isDegradation()) {
            // how far the simulated input is from the original, by the reference's evaluation protocol
            MetricAccumulator acc = new MetricAccumulator();
            for (int z = 0; z < in.depth(); z++) {
                acc.add(input + "#" + z, sim.outputModality(), Evaluation.evaluate(sim.outputModality(), out.slice(z),
                        in.slice(z), in.height(), in.width()));
            }
            System.err.println("output vs input (window, per-slice mean): " + acc.summary().strip());
        }
        if (panel != null) {
            Simulation.Panel p = sim.panel(in.slice(k), out.slice(k), win);
            Panels.write(panel, in.height(), in.width(), p.tiles());
            System.err.println("panel " + panel + " (slice " + k + "): " + p.legend());
        }
        return 0;
    }

    /** Refuses a target that is the input, or lies inside an input folder (a DICOM series). */
    static void refuseOverwrite(Path input, Path target) throws java.io.IOException {
        if (Files.exists(target) && Files.isSameFile(input, target)) {
            throw new InvalidInputException(target, "the output would overwrite the input");
        }
        if (Files.isDirectory(input)) {
            Path t = target.toAbsolutePath().normalize();
            if (t.startsWith(input.toRealPath()) || t.startsWith(input.toAbsolutePath().normalize())) {
                throw new InvalidInputException(target, "the output would be written inside the input folder");
            }
        }
    }

    static ImageFormat.Window parseWindow(String s) {
        String[] p = s.split(",");
        try {
            if (p.length == 2) {
                return new ImageFormat.Window(Double.parseDouble(p[0].strip()), Double.parseDouble(p[1].strip()));
            }
        } catch (NumberFormatException e) {
            // falls through to the message below
        }
        throw new IllegalArgumentException("--window '" + s + "' is not LO,HI with numbers LO < HI");
    }

    private static boolean outside16Bit(Volume v) {
        for (float x : v.voxels()) {
            if (x < 0 || x > 65535) {
                return true;
            }
        }
        return false;
    }
}
