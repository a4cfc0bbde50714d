package org.restorerwkv.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.api.RestorationModel;
import org.restorerwkv.infer.RestoreListener;
import org.restorerwkv.infer.ScanRestorer;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Npy;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.io.dicom.Derivation;
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
    DicomOutputOptions dicom;

    @Override
    public Integer call() throws Exception {
        if (!Files.exists(input)) {
            throw new InvalidInputException(input, "no such file or directory");
        }
        if (Files.exists(output) && Files.isSameFile(input, output)) {
            throw new InvalidInputException(output, "the output would overwrite the input");
        }
        if (output.toAbsolutePath().normalize().startsWith(input.toAbsolutePath().normalize()) && Files.isDirectory(input)) {
            throw new InvalidInputException(output, "the output may not lie inside the input directory");
        }
        dicom.apply(Derivation.converted()); // refuse bad DICOM options before any work
        List<Path[]> jobs = jobs();
        long t0 = System.nanoTime();
        int slices = 0;
        try (Models models = new Models()) {
            for (Path[] job : jobs) {
                slices += restoreOne(models, job[0], job[1]);
            }
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.err.printf(Locale.ROOT, "restored %d scan(s), %d slice(s) in %.1f s (%.2f slices/s) -> %s%n",
                jobs.size(), slices, s, slices / s, output);
        return 0;
    }

    /** (input, output) pairs: one scan, or every scan of a directory that is not itself a DICOM series. */
    private List<Path[]> jobs() throws IOException {
        List<Path[]> jobs = new ArrayList<>();
        if (Files.isDirectory(input) && !isDicomSeries(input)) {
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
        for (Path[] j : jobs) {
            if (!isNpyToNpy(j[0], j[1])) {
                VolumeFormats.outputKind(j[1]); // refuse a bad output name before any work
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

    /**
     * The model per scan: --weights for every scan, else the bundled default for the scan's
     * modality, each opened once on first use.
     */
    private final class Models implements AutoCloseable {
        private final Map<String, RestorationModel> open = new LinkedHashMap<>();

        RestorationModel forModality(Modality m) throws IOException {
            String spec = model.weights != null ? model.weights : RestorationModel.defaultWeights(m);
            RestorationModel r = open.get(spec);
            if (r == null) {
                r = model.open(model.weights != null ? model.weights : model.weightsOrDefault(m), batch, tile, overlap);
                open.put(spec, r);
            }
            return r;
        }

        @Override
        public void close() {
            open.values().forEach(RestorationModel::close);
        }
    }

    private int restoreOne(Models models, Path in, Path out) throws IOException {
        if (isNpyToNpy(in, out)) {
            HostTensor t = Npy.read(in);
            Modality m = modality(null, in);
            RestorationModel restorer = models.forModality(m);
            int n = t.rank() == 2 ? 1 : (int) t.shape()[0];
            try (ProgressBar pb = progress(in, n)) {
                HostTensor y = restorer.restore(t, m, listener(pb));
                Npy.write(out, y);
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(in, e.getMessage());
            }
            return n;
        }
        Volume v = VolumeFormats.read(in);
        Modality m = modality(v, in);
        RestorationModel restorer = models.forModality(m);
        int n = ScanRestorer.sliceCount(v, axis);
        try (ProgressBar pb = progress(in, n)) {
            Volume y = restorer.restore(v, m, axis, listener(pb));
            // recorded in DICOM outputs (DerivationDescription): the weights this scan was restored with
            VolumeFormats.write(out, y, dicom.apply(Derivation.restored(restorer.weights())));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(in, e.getMessage());
        }
        return n;
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

    private static RestoreListener listener(ProgressBar pb) {
        return new RestoreListener() {
            @Override
            public void progress(int done, int total) {
                pb.stepTo(done);
            }
        };
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
