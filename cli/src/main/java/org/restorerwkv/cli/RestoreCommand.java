package org.restorerwkv.cli;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.infer.Restorer;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.infer.ScanRestorer;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.AtomicFiles;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.ReadLimits;
import org.restorerwkv.io.Npy;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.model.RestoreRwkv;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Restores scans with a trained model: a file, a DICOM series directory, or a directory of scans. */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Restore degraded scans. IN is a file (NIfTI, DICOM, NPY/NPZ, PNG, TIFF), a DICOM series directory,",
            "or a directory of such scans (then OUT is a directory). OUT's extension picks the format (a directory",
            "or a name without extension: a derived DICOM series); geometry and metadata are kept. A .npy in and out",
            "keeps its exact shape: (H,W), (D,H,W) slices or (N,C,H,W)."})
public final class RestoreCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--input", required = true, paramLabel = "IN", description = "Input scan, series directory or directory of scans.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "OUT", description = "Output file or directory (never the input).")
    Path output;

    @Option(names = "--modality", defaultValue = "auto", paramLabel = "ct|mri|pet|none|auto",
            description = "Normalization (CT [-1024,3072] HU, MRI [0,4095], PET [0,20] SUV) before the network and back after;"
                    + " none passes raw values; auto reads DICOM's Modality tag (default: ${DEFAULT-VALUE}).")
    String modality;

    @Option(names = "--axis", defaultValue = "0", paramLabel = "0|1|2",
            description = "Slice axis of a volume: 0 = the stored (acquisition) slices, 1 = rows, 2 = columns (default: ${DEFAULT-VALUE}).")
    int axis;

    @Option(names = "--batch", defaultValue = "4", paramLabel = "N", description = "Slices per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--tile", defaultValue = "256", paramLabel = "PX",
            description = "Slices larger than this are restored in overlapping tiles; 0 = never tile (default: ${DEFAULT-VALUE}).")
    int tile;

    @Option(names = "--overlap", defaultValue = "32", paramLabel = "PX", description = "Tile overlap (default: ${DEFAULT-VALUE}).")
    int overlap;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    @Mixin
    ReadLimitOptions readLimits;

    @Override
    public Integer call() throws Exception {
        if (!Files.exists(input)) {
            throw new InvalidInputException(input, "no such file or directory");
        }
        if (!Files.isReadable(input)) {
            throw new InvalidInputException(input, "cannot read (permission denied)");
        }
        if (Files.exists(output) && Files.isSameFile(input, output)) {
            throw new InvalidInputException(output, "the output would overwrite the input");
        }
        if (output.toAbsolutePath().normalize().startsWith(input.toAbsolutePath().normalize()) && Files.isDirectory(input)) {
            throw new InvalidInputException(output, "the output may not lie inside the input directory");
        }
        Modality fixed = modality.equalsIgnoreCase("auto") ? null : Modality.parse(modality);
        ReadLimits limits = readLimits.limits();
        List<Path[]> jobs = jobs();
        long t0 = System.nanoTime();
        int slices = 0;
        List<String> failures = new ArrayList<>();
        // one scan is read before the model loads: a bad input fails at once
        Scan only = jobs.size() == 1 ? read(jobs.get(0)[0], jobs.get(0)[1], fixed, limits) : null;
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            String spec = model.weightsOrDefault();
            RestoreRwkv net = model.load(manager, spec);
            ScanRestorer restorer = new ScanRestorer(new Restorer(net, manager, batch, tile, overlap), Weights.scalingOf(spec));
            for (Path[] job : jobs) {
                try {
                    slices += restoreOne(restorer, only != null ? only : read(job[0], job[1], fixed, limits));
                } catch (IOException e) {
                    if (jobs.size() == 1) {
                        throw e;
                    }
                    // all or nothing per scan: this one's output was never written; the others go on
                    String line = e instanceof java.nio.file.FileSystemException fs && fs.getFile() != null
                            ? fs.getFile() + ": " + org.restorerwkv.io.FileErrors.describe(fs)
                            : String.valueOf(e.getMessage()).lines().findFirst().orElse("");
                    System.err.println("restore-rwkv restore: " + line);
                    failures.add(job[0].toString());
                }
            }
        }
        double s = (System.nanoTime() - t0) / 1e9;
        int done = jobs.size() - failures.size();
        System.err.printf(Locale.ROOT, "restored %d of %d scan(s), %d slice(s) in %.1f s (%.2f slices/s) -> %s%n",
                done, jobs.size(), slices, s, slices / s, output);
        if (!failures.isEmpty()) {
            System.err.printf(Locale.ROOT, "restore-rwkv restore: %s: %d of %d scan(s) failed (%s) and have no output;"
                    + " the other outputs are complete%n", input, failures.size(), jobs.size(), String.join(", ", failures));
            return 1;
        }
        return 0;
    }

    /** (input, output) pairs: one scan, or every scan of a directory that is not itself a DICOM series. */
    private List<Path[]> jobs() throws IOException {
        List<Path[]> jobs = new ArrayList<>();
        if (Files.isDirectory(input) && !isDicomSeries(input)) {
            AtomicFiles.checkWritableFolder(output);
            try (Stream<Path> s = Files.list(input)) {
                for (Path p : s.sorted().toList()) {
                    if (!p.getFileName().toString().startsWith(".")) {
                        jobs.add(new Path[] {p, output.resolve(p.getFileName().toString())});
                    }
                }
            }
            if (jobs.isEmpty()) {
                throw new InvalidInputException(input, "empty directory");
            }
        } else {
            jobs.add(new Path[] {input, output});
        }
        // every output is checked before the model loads: a bad name or an unwritable place fails in seconds
        for (Path[] j : jobs) {
            if (isNpyToNpy(j[0], j[1])) {
                AtomicFiles.checkWritableFile(j[1]);
            } else {
                VolumeFormats.checkWritable(j[1]);
            }
        }
        return jobs;
    }

    /** A directory holding only files (no sub-directories) is read as one DICOM series. */
    static boolean isDicomSeries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().startsWith("."))
                    .allMatch(p -> Files.isRegularFile(p) && !isKnownNonDicom(p));
        }
    }

    private static boolean isKnownNonDicom(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".nii") || n.endsWith(".nii.gz") || n.endsWith(".npy") || n.endsWith(".npz")
                || n.endsWith(".png") || n.endsWith(".tif") || n.endsWith(".tiff");
    }

    private static boolean isNpyToNpy(Path in, Path out) {
        return in.toString().toLowerCase(Locale.ROOT).endsWith(".npy") && out.toString().toLowerCase(Locale.ROOT).endsWith(".npy");
    }

    /** A scan read and checked, ready for the model: a raw .npy array or a volume. */
    private record Scan(Path in, Path out, HostTensor array, Volume volume, Modality modality, int slices) {}

    private Scan read(Path in, Path out, Modality fixed, ReadLimits limits) throws IOException {
        if (isNpyToNpy(in, out)) {
            HostTensor t = Npy.read(in, limits);
            requireFinite(in, t.data());
            Modality m = fixed != null ? fixed : modality(null, in);
            return new Scan(in, out, t, null, m, t.rank() == 2 ? 1 : (int) t.shape()[0]);
        }
        Volume v = VolumeFormats.read(in, limits);
        requireFinite(in, v.voxels());
        Modality m = fixed != null ? fixed : modality(v, in);
        return new Scan(in, out, null, v, m, ScanRestorer.sliceCount(v, axis));
    }

    private static void requireFinite(Path in, float[] voxels) throws InvalidInputException {
        long bad = VolumeFormats.countNonFinite(voxels);
        if (bad > 0) {
            throw new InvalidInputException(in, bad + " voxel(s) are NaN or infinite; restore needs finite values");
        }
    }

    private int restoreOne(ScanRestorer restorer, Scan scan) throws IOException {
        long kept;
        try (ProgressBar pb = progress(scan.in(), scan.slices())) {
            if (scan.array() != null) {
                ScanRestorer.Restored<HostTensor> y = restorer.restoreCounted(scan.array(), scan.modality(), pb::stepBy);
                Npy.write(scan.out(), y.result());
                kept = y.passedThrough();
            } else {
                ScanRestorer.Restored<Volume> y = restorer.restoreCounted(scan.volume(), scan.modality(), axis, pb::stepBy);
                VolumeFormats.write(scan.out(), y.result());
                kept = y.passedThrough();
            }
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(scan.in(), e.getMessage(), e);
        }
        Modality m = scan.modality();
        System.err.printf(Locale.ROOT, "%s -> %s: %d voxel(s) outside the %s range [%s, %s]%s passed through unchanged%n",
                scan.in(), scan.out(), kept, m, plain(m.normLow()), plain(m.normHigh()),
                m.units().isEmpty() ? "" : " " + m.units());
        return scan.slices();
    }

    private static String plain(double x) {
        return x == Math.rint(x) && Double.isFinite(x) ? Long.toString((long) x) : Double.toString(x);
    }

    private Modality modality(Volume v, Path in) throws InvalidInputException {
        if (!modality.equalsIgnoreCase("auto")) {
            return Modality.parse(modality);
        }
        Modality declared = v == null ? null : ScanRestorer.declaredModality(v);
        if (declared == null) {
            throw new InvalidInputException(in, "modality unknown (no DICOM Modality tag): give --modality ct|mri|pet|none");
        }
        return declared;
    }

    private ProgressBar progress(Path in, int total) {
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(in.getFileName().toString()).setInitialMax(total)
                .setUnit(" slices", 1).setStyle(ProgressBarStyle.ASCII).showSpeed().setUpdateIntervalMillis(250);
        if (quiet) {
            b.setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(
                    new java.io.PrintStream(java.io.OutputStream.nullOutputStream())));
        }
        return b.build();
    }
}
