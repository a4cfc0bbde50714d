package org.restorerwkv.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.api.RestorationModel;
import org.restorerwkv.bench.Bench;
import org.restorerwkv.infer.RestoreListener;
import org.restorerwkv.infer.Restorer;
import org.restorerwkv.infer.TilingPlan;
import org.restorerwkv.infer.ScanRestorer;
import org.restorerwkv.io.AtomicFiles;
import org.restorerwkv.io.FileErrors;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Npy;
import org.restorerwkv.io.ReadLimits;
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

    @Mixin
    DicomOutputOptions dicom;

    @Mixin
    ReadLimitOptions readLimits;

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

    @Option(names = "--tile", defaultValue = "auto", paramLabel = "auto|PX",
            description = "auto: slices are restored whole whenever the estimated peak memory fits --max-memory, in tiles"
                    + " only above it (said on stderr); PX: slices larger than PX pixels are restored in overlapping tiles;"
                    + " 0 = never tile (default: ${DEFAULT-VALUE}).")
    String tile;

    @Option(names = "--max-memory", paramLabel = "SIZE",
            description = "Memory budget of --tile auto beyond the loaded model, e.g. 4g or 800m (default: 3/4 of the"
                    + " JVM's maximum heap, at most half of the machine's memory).")
    String maxMemory;

    @Option(names = "--debug-timing", description = "Print where the time goes (process start, model load, read, restore, write) on stderr.")
    boolean debugTiming;

    @Option(names = "--overlap", defaultValue = "32", paramLabel = "PX", description = "Tile overlap (default: ${DEFAULT-VALUE}).")
    int overlap;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

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
        dicom.apply(Derivation.converted()); // refuse bad DICOM options before any work
        int tilePx = parseTile(tile);
        long budget = maxMemory == null ? 0 : ModelOptions.parseBytes("--max-memory", maxMemory);
        Modality fixed = modality.equalsIgnoreCase("auto") ? null : Modality.parse(modality);
        ReadLimits limits = readLimits.limits();
        timing("command started");
        List<Path[]> jobs = jobs();
        long t0 = System.nanoTime();
        int slices = 0;
        // libtorch starts on this thread: grad mode is off only on the thread that started the
        // engine, and later commands in the same JVM run on this one
        model.applyThreads(); // before the engine reads them
        ai.djl.engine.Engine.getInstance();
        timing("libtorch started");
        List<String> failures = new ArrayList<>();
        try (Models models = new Models(tilePx, budget)) {
            // the weights load while the first scan is read, where the scan is not needed to choose them
            if (model.weights != null) {
                models.prefetch(model.weights);
            } else if (fixed != null) {
                // said on stderr once a scan has been read: a bad input gets its one line alone
                models.prefetch(RestorationModel.defaultWeights(fixed));
            }
            for (int i = 0; i < jobs.size(); i++) {
                Path[] job = jobs.get(i);
                try {
                    Scan scan = read(job[0], job[1], fixed, limits);
                    timing("scan read");
                    slices += restoreOne(models, scan);
                } catch (IOException e) {
                    if (jobs.size() == 1) {
                        throw e;
                    }
                    // all or nothing per scan: this one's output was never written; the others go on
                    String line = e instanceof java.nio.file.FileSystemException fs && fs.getFile() != null
                            ? fs.getFile() + ": " + FileErrors.describe(fs)
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
        if (debugTiming) {
            timing("done");
            System.err.printf(Locale.ROOT, "timing: peak RSS %.0f MB%n", Bench.peakRssMb());
        }
        return 0;
    }

    static int parseTile(String tile) {
        if (tile.equalsIgnoreCase("auto")) {
            return Restorer.AUTO;
        }
        try {
            return Integer.parseInt(tile.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--tile must be auto, 0 or a multiple of 8, got " + tile);
        }
    }

    /**
     * The model per scan: --weights for every scan, else the bundled default for the scan's
     * modality; each is loaded once, on a loader thread, so that a load can overlap reading a scan.
     */
    private final class Models implements AutoCloseable {
        private final Map<String, Future<RestorationModel>> open = new LinkedHashMap<>();
        /** Default models already named on stderr, with their modality. */
        private final Set<String> announced = new HashSet<>();
        private final ExecutorService loader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "restore-rwkv-model-load");
            t.setDaemon(true);
            return t;
        });
        private final int tilePx;
        private final long budget;

        Models(int tilePx, long budget) {
            this.tilePx = tilePx;
            this.budget = budget;
        }

        /** Starts loading {@code spec} unless it is loading or loaded. */
        void prefetch(String spec) {
            open.computeIfAbsent(spec, s -> loader.submit(() -> {
                RestorationModel m = model.open(s, batch, tilePx, overlap, budget);
                timing("model loaded");
                return m;
            }));
        }

        RestorationModel forModality(Modality m) throws Exception {
            String spec = model.weights != null ? model.weights : RestorationModel.defaultWeights(m);
            if (model.weights == null && announced.add(spec + " " + m)) {
                ModelOptions.announceDefault(spec, m);
            }
            prefetch(spec);
            try {
                return open.get(spec).get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception x ? x : e;
            }
        }

        /** Frees every model, waiting for loads still running (their errors are not the command's). */
        @Override
        public void close() {
            loader.shutdown();
            for (Future<RestorationModel> f : open.values()) {
                try {
                    f.get().close();
                } catch (ExecutionException e) {
                    // reported by forModality, or the command failed first
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private final long processStart = ProcessHandle.current().info().startInstant().map(java.time.Instant::toEpochMilli)
            .orElse(System.currentTimeMillis());

    /** With --debug-timing: one stderr line, seconds since the process started. */
    private void timing(String what) {
        if (debugTiming) {
            System.err.printf(Locale.ROOT, "timing: %-18s at %6.3f s since process start (%s)%n", what,
                    (System.currentTimeMillis() - processStart) / 1e3, Thread.currentThread().getName());
        }
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
                    .allMatch(p -> Files.isRegularFile(p) && !VolumeFormats.isKnownNonDicom(p.getFileName().toString()));
        }
    }

    private static boolean isNpyToNpy(Path in, Path out) {
        return in.toString().toLowerCase(Locale.ROOT).endsWith(".npy") && out.toString().toLowerCase(Locale.ROOT).endsWith(".npy");
    }

    /** A scan read and checked, ready for the model: a raw .npy array or a volume. */
    private record Scan(Path in, Path out, HostTensor array, Volume volume, Modality modality, int slices, int height,
            int width) {}

    private Scan read(Path in, Path out, Modality fixed, ReadLimits limits) throws IOException {
        if (isNpyToNpy(in, out)) {
            HostTensor t = Npy.read(in, limits);
            requireFinite(in, t.data());
            Modality m = fixed != null ? fixed : modality(null, in);
            long[] s = t.shape();
            return new Scan(in, out, t, null, m, t.rank() == 2 ? 1 : (int) s[0], (int) s[s.length - 2], (int) s[s.length - 1]);
        }
        Volume v = VolumeFormats.read(in, limits);
        requireFinite(in, v.voxels());
        Modality m = fixed != null ? fixed : modality(v, in);
        int[] shape = org.restorerwkv.io.Reslice.shape(v.depth(), v.height(), v.width(), axis);
        return new Scan(in, out, null, v, m, shape[0], shape[1], shape[2]);
    }

    private static void requireFinite(Path in, float[] voxels) throws InvalidInputException {
        long bad = VolumeFormats.countNonFinite(voxels);
        if (bad > 0) {
            throw new InvalidInputException(in, bad + " voxel(s) are NaN or infinite; restore needs finite values");
        }
    }

    private int restoreOne(Models models, Scan scan) throws Exception {
        RestorationModel restorer = models.forModality(scan.modality());
        announce(restorer, scan.in(), scan.slices(), scan.height(), scan.width());
        long kept;
        try (ProgressBar pb = progress(scan.in(), scan.slices())) {
            if (scan.array() != null) {
                ScanRestorer.Restored<HostTensor> y = restorer.restoreCounted(scan.array(), scan.modality(), listener(pb));
                timing("restored");
                Npy.write(scan.out(), y.result());
                kept = y.passedThrough();
            } else {
                ScanRestorer.Restored<Volume> y = restorer.restoreCounted(scan.volume(), scan.modality(), axis, listener(pb));
                timing("restored");
                // recorded in DICOM outputs (DerivationDescription): the weights this scan was restored with
                VolumeFormats.write(scan.out(), y.result(), dicom.apply(Derivation.restored(restorer.weights())));
                kept = y.passedThrough();
            }
            timing("written");
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

    /** Says on stderr when slices will be tiled (always) or how they run (with --debug-timing). */
    private void announce(RestorationModel restorer, Path in, int n, int h, int w) throws InvalidInputException {
        TilingPlan plan;
        try {
            plan = restorer.tilingPlan(n, h, w);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(in, e.getMessage());
        }
        if (plan.tiled() && Restorer.AUTO == parseTile(tile)) {
            System.err.println("restore-rwkv restore: " + in + ": " + plan.describe(h, w) + " (--max-memory raises the budget)");
        } else if (debugTiming) {
            System.err.println("timing: " + plan.describe(h, w));
        }
    }

    private Modality modality(Volume v, Path in) throws InvalidInputException {
        return ScanRestorer.modalityOf(modality, v, in);
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
