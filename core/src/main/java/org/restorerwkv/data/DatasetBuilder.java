package org.restorerwkv.data;

import org.restorerwkv.domain.Modality;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.restorerwkv.degrade.MriKspace;
import org.restorerwkv.degrade.MriSynth;
import org.restorerwkv.degrade.PetLowCount;
import org.restorerwkv.degrade.Seeds;
import org.restorerwkv.io.AtomicFiles;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

/**
 * Builds a paired dataset from a folder of full-quality scans: each scan is degraded by a
 * {@link Simulation} and the pair is written to
 * {@code ROOT/{CT|MRI|PET}/{train,validation,test}/{LQ,HQ}/NAME} (same NAME in LQ and HQ; the
 * modality folder is the task's: ct-lowdose CT, mri-sr MRI, pet-lowcount PET), followed by a
 * manifest {@code ROOT/manifest-{CT|MRI|PET}.json}.
 *
 * <p>Scans. Every entry of the input folder whose name does not start with '.' is one scan: a file
 * in any format {@link VolumeFormats#read} accepts, or a folder holding one DICOM series. Scans
 * are taken in name order; NAME is the scan's name without its image extension plus the output
 * extension ({@code .npy}: float32 (depth, height, width); {@code .nii.gz}: float32 with the scan's
 * geometry).
 *
 * <p>Splits are by scan, never by slice: either each input folder is given whole to a named split
 * ({@link #build(Map, Path)}: a curated split by volume), or one folder is shared out by fractions
 * ({@link #build(Path, Path)}). Counts: n times each fraction, rounded down, and the
 * scans left over go one each to the splits with the largest remainders (ties: train, validation,
 * test); then, when there are at least as many scans as non-zero fractions, every split with a
 * non-zero fraction that got no scan takes one from the split holding the most (so 5 scans at
 * 0.8/0.1/0.1 give 3/1/1, 10 give 8/1/1). Scans are assigned after a Fisher-Yates shuffle of the
 * name-sorted list driven by {@code SplittableRandom(seed)}: the first ones train, then
 * validation, then test.
 *
 * <p>Noise. Scan NAME is degraded with seed {@link #scanSeed}{@code (seed, scan name)}, and its
 * slice k with {@code Seeds.forSlice(scanSeed, k)}, exactly as {@code simulate --seed scanSeed}
 * does; a scan's pair therefore depends only on the scan, the task and the seed, not on the
 * other scans, the split or the number of threads.
 *
 * <p>Slices. With {@code minContent > 0} only the slices from the first to the last whose HQ
 * holds enough foreground are written ({@link #contentRange}); both volumes are cropped after the
 * degradation, so the LQ slices are still those of {@code simulate}, and the manifest records the
 * range kept.
 *
 * <p>All or nothing: the modality's tree is written into a hidden temporary folder in ROOT and
 * renamed to {@code ROOT/{CT|MRI|PET}} at the end (each file itself written atomically); an
 * existing modality folder is never written into.
 */
public final class DatasetBuilder {

    /** The split folders, in assignment order (the {@link Split} enum's). */
    public static final List<String> SPLITS = java.util.Arrays.stream(Split.values()).map(Split::folderName).toList();

    /** Output file format. */
    public enum Format {
        NPY(".npy"),
        NIFTI_GZ(".nii.gz");

        private final String extension;

        Format(String extension) {
            this.extension = extension;
        }

        public String extension() {
            return extension;
        }

        /** "npy" or "nii.gz" (a leading dot is accepted). */
        public static Format parse(String s) {
            String k = s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
            k = k.startsWith(".") ? k.substring(1) : k;
            return switch (k) {
                case "npy" -> NPY;
                case "nii.gz" -> NIFTI_GZ;
                default -> throw new IllegalArgumentException("unknown format '" + s + "' (npy, nii.gz)");
            };
        }
    }

    /** One scan of the input folder: its name (file or folder name) and path. */
    public record Scan(String name, Path source) {}

    /**
     * Where a scan went. {@code shape} is (depth, height, width) as written; {@code slices} the
     * range [first, end) of the scan's slices kept (see {@link #contentRange}).
     */
    public record Entry(String scan, String file, String split, long seed, int[] shape, int[] slices,
            String simulation, int axis) {}

    /** The dataset written: the modality folder, the manifest and one entry per scan in name order. */
    public record Result(Path modalityDir, Path manifest, List<Entry> entries, int[] counts) {}

    private final Simulation simulation;
    private final Simulation phantom;
    private final double[] fractions;
    private final long seed;
    private final Format format;
    private final int threads;
    private final double minContent;
    private final int[] trainAxes;
    private final int synthVariants;

    /**
     * @param simulation the degradation (ct-lowdose, mri-sr or pet-lowcount)
     * @param phantom null, or the {@value Simulation#PET_PHANTOM} simulation that first turns each
     *     input (a T1 MRI) into the full-count PET image; only with pet-lowcount
     * @param fractions train, validation, test fractions (see {@link #splitCounts})
     */
    public DatasetBuilder(Simulation simulation, Simulation phantom, double[] fractions, long seed, Format format,
            int threads) {
        this(simulation, phantom, fractions, seed, format, threads, 0);
    }

    /**
     * @param minContent keep only the slices from the first to the last whose HQ has at least this
     *     fraction of foreground voxels (see {@link #contentRange}); 0 keeps all
     */
    public DatasetBuilder(Simulation simulation, Simulation phantom, double[] fractions, long seed, Format format,
            int threads, double minContent) {
        this(simulation, phantom, fractions, seed, format, threads, minContent, new int[] {0});
    }

    /**
     * @param trainAxes the axes along which each train scan is sliced, each written as its own pair
     *     ({@link #pairStem}): 0 the stored slices, 1 one slice per row, 2 one per column (for an
     *     isotropic volume, three views of the anatomy). Validation and test scans keep axis 0, so
     *     they are evaluated as acquired.
     */
    public DatasetBuilder(Simulation simulation, Simulation phantom, double[] fractions, long seed, Format format,
            int threads, double minContent, int[] trainAxes) {
        this(simulation, phantom, fractions, seed, format, threads, minContent, trainAxes, 0);
    }

    /**
     * @param synthVariants mri-sr only: besides its real pair, each train scan view gets this many
     *     contrast- and shape-randomized pairs {@code STEM.synthK} (k = 1..synthVariants): the HQ is
     *     {@link MriSynth} of the view ({@value #SYNTH_CLASSES} intensity classes fitted on the
     *     scan), the LQ its degradation. Validation and test stay real.
     */
    public DatasetBuilder(Simulation simulation, Simulation phantom, double[] fractions, long seed, Format format,
            int threads, double minContent, int[] trainAxes, int synthVariants) {
        if (synthVariants < 0 || synthVariants > 64) {
            throw new IllegalArgumentException("synthetic variants must be in 0..64, got " + synthVariants);
        }
        if (synthVariants > 0 && !simulation.task().equals(MriKspace.TASK)) {
            throw new IllegalArgumentException("synthetic variants need task " + MriKspace.TASK + ", not "
                    + simulation.task());
        }
        if (trainAxes.length == 0 || Arrays.stream(trainAxes).distinct().count() != trainAxes.length
                || Arrays.stream(trainAxes).anyMatch(a -> a < 0 || a > 2)) {
            throw new IllegalArgumentException("train axes must be distinct values of 0, 1, 2, got "
                    + Arrays.toString(trainAxes));
        }
        if (!(minContent >= 0 && minContent <= 1)) {
            throw new IllegalArgumentException("min-content must be in [0, 1], got " + minContent);
        }
        if (!simulation.isDegradation()) {
            throw new IllegalArgumentException("make-dataset needs a degradation task (ct-lowdose, mri-sr,"
                    + " pet-lowcount), not " + simulation.task());
        }
        if (phantom != null && (phantom.isDegradation() || !simulation.task().equals(PetLowCount.TASK))) {
            throw new IllegalArgumentException("PET from T1 needs task " + PetLowCount.TASK + " and the "
                    + Simulation.PET_PHANTOM + " simulation");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        splitCounts(SPLITS.size(), fractions); // validates the fractions
        this.simulation = simulation;
        this.phantom = phantom;
        this.fractions = fractions.clone();
        this.seed = seed;
        this.format = format;
        this.threads = threads;
        this.minContent = minContent;
        this.trainAxes = trainAxes.clone();
        this.synthVariants = synthVariants;
    }

    /** Intensity classes of the synthetic variants' tissue model. */
    public static final int SYNTH_CLASSES = 6;

    /** Parses "0.8,0.1,0.1" (three fractions; "a/b" accepted). */
    public static double[] parseSplit(String spec) {
        String[] parts = spec == null ? new String[0] : spec.split(",");
        if (parts.length != 3) {
            throw new IllegalArgumentException("split '" + spec + "' needs three fractions train,validation,test");
        }
        double[] f = new double[3];
        for (int i = 0; i < 3; i++) {
            String p = parts[i].strip();
            try {
                int slash = p.indexOf('/');
                f[i] = slash < 0 ? Double.parseDouble(p)
                        : Double.parseDouble(p.substring(0, slash)) / Double.parseDouble(p.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("split fraction '" + p + "' is not a number");
            }
        }
        splitCounts(3, f);
        return f;
    }

    /**
     * Scans per split for n scans (see the class comment for the rounding).
     *
     * @throws IllegalArgumentException unless there are three finite fractions >= 0 adding up to 1
     *     (within 1e-6)
     */
    public static int[] splitCounts(int n, double[] fractions) {
        if (fractions.length != SPLITS.size()) {
            throw new IllegalArgumentException("split needs " + SPLITS.size() + " fractions, got " + fractions.length);
        }
        double sum = 0;
        for (double f : fractions) {
            if (!(f >= 0) || !Double.isFinite(f)) {
                throw new IllegalArgumentException("split fractions must be finite and >= 0, got " + Arrays.toString(fractions));
            }
            sum += f;
        }
        if (Math.abs(sum - 1) > 1e-6) {
            throw new IllegalArgumentException("split fractions must add up to 1, got " + Arrays.toString(fractions));
        }
        int[] c = new int[fractions.length];
        double[] rem = new double[fractions.length];
        int given = 0;
        for (int i = 0; i < c.length; i++) {
            double share = n * fractions[i];
            c[i] = (int) Math.floor(share + 1e-9); // 1e-9: 10 * 0.7 is 6.999999999999999
            rem[i] = share - c[i];
            given += c[i];
        }
        for (int left = n - given; left > 0; left--) {
            int best = 0;
            for (int i = 1; i < c.length; i++) {
                if (rem[i] > rem[best]) {
                    best = i;
                }
            }
            c[best]++;
            rem[best] = -1;
        }
        long positive = Arrays.stream(fractions).filter(f -> f > 0).count();
        if (n >= positive) {
            for (int i = 0; i < c.length; i++) {
                if (fractions[i] > 0 && c[i] == 0) {
                    int most = 0;
                    for (int j = 1; j < c.length; j++) {
                        if (c[j] > c[most]) {
                            most = j;
                        }
                    }
                    c[most]--;
                    c[i]++;
                }
            }
        }
        return c;
    }

    /** Split of each scan name (result in name order), by the seeded shuffle of the class comment. */
    public static Map<String, String> assignSplits(List<String> names, double[] fractions, long seed) {
        List<String> order = new ArrayList<>(names);
        order.sort(Comparator.naturalOrder());
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = order.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            String t = order.get(i);
            order.set(i, order.get(j));
            order.set(j, t);
        }
        int[] counts = splitCounts(order.size(), fractions);
        Map<String, String> out = new TreeMap<>();
        int pos = 0;
        for (int s = 0; s < counts.length; s++) {
            for (int k = 0; k < counts[s]; k++) {
                out.put(order.get(pos++), SPLITS.get(s));
            }
        }
        return out;
    }

    /**
     * The seed of one scan: {@code Seeds.forSlice(seed, h)} with h the first 8 bytes (big-endian) of
     * the SHA-256 of the scan's name in UTF-8.
     */
    public static long scanSeed(long seed, String scanName) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(scanName.getBytes(StandardCharsets.UTF_8));
            return Seeds.forSlice(seed, ByteBuffer.wrap(d).getLong());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** The scans of a folder, in name order (hidden entries skipped). */
    public static List<Scan> listScans(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(dir, "not a folder of scans");
        }
        List<Scan> scans = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .forEach(p -> scans.add(new Scan(p.getFileName().toString(), p)));
        }
        if (scans.isEmpty()) {
            throw new InvalidInputException(dir, "folder holds no scans");
        }
        return scans;
    }

    /** The scan's name without its image extension (a folder keeps its whole name). */
    public static String stem(Scan scan) {
        String name = scan.name();
        if (Files.isDirectory(scan.source())) {
            return name;
        }
        return VolumeFormats.stem(name);
    }

    /** Degrades every scan of {@code inputDir} into the dataset under {@code root}, split by {@link #fractions}. */
    public Result build(Path inputDir, Path root) throws IOException {
        List<Scan> scans = listScans(inputDir);
        Map<String, String> split = assignSplits(scans.stream().map(Scan::name).toList(), fractions, seed);
        List<Assigned> assigned = new ArrayList<>();
        for (Scan s : scans) {
            assigned.add(new Assigned(s, split.get(s.name())));
        }
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("split_fractions", fractions);
        input.put("input", inputDir.toAbsolutePath().normalize().toString());
        return writeAll(assigned, List.of(inputDir), root, input);
    }

    /**
     * Degrades every scan of each folder into the split it is given (whole folders, no shuffle, no
     * fractions): the split by volume of a curated dataset. Splits not given get no scans.
     */
    public Result build(Map<Split, Path> folders, Path root) throws IOException {
        if (folders.isEmpty()) {
            throw new IllegalArgumentException("no input folder for any split");
        }
        List<Assigned> assigned = new ArrayList<>();
        Map<String, String> inputs = new LinkedHashMap<>();
        for (Split sp : Split.values()) {
            Path dir = folders.get(sp);
            if (dir != null) {
                for (Scan s : listScans(dir)) {
                    assigned.add(new Assigned(s, sp.folderName()));
                }
                inputs.put(sp.folderName(), dir.toAbsolutePath().normalize().toString());
            }
        }
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("split_by", "input folder");
        input.put("inputs", inputs);
        return writeAll(assigned, List.copyOf(folders.values()), root, input);
    }

    /** A scan and the split folder it goes to. */
    private record Assigned(Scan scan, String split) {}

    private Result writeAll(List<Assigned> scans, List<Path> inputDirs, Path root, Map<String, Object> input)
            throws IOException {
        Modality modality = simulation.outputModality();
        Path rootAbs = root.toAbsolutePath().normalize();
        Path rootReal = Files.exists(rootAbs) ? rootAbs.toRealPath() : rootAbs;
        for (Path inputDir : inputDirs) {
            if (rootReal.startsWith(inputDir.toRealPath())) {
                throw new InvalidInputException(root, "the dataset root lies inside the input folder " + inputDir);
            }
        }
        Path modalityDir = rootAbs.resolve(modality.folderName());
        Path manifest = rootAbs.resolve("manifest-" + modality.folderName() + ".json");
        if (Files.exists(modalityDir)) {
            throw new InvalidInputException(modalityDir, "already exists; remove it or choose another root");
        }
        Map<String, Scan> files = new LinkedHashMap<>();
        for (Assigned a : scans) {
            for (int axis : axes(a.split())) {
                for (int variant = 0; variant <= variants(a.split()); variant++) {
                    String file = pairStem(a.scan(), axis) + synthSuffix(variant) + format.extension();
                    Scan before = files.put(a.split() + "/" + file, a.scan());
                    if (before != null) {
                        throw new InvalidInputException(a.scan().source(), "scans '" + before.name() + "' and '"
                                + a.scan().name() + "' would both be written as " + file + " in " + a.split());
                    }
                }
            }
        }

        Files.createDirectories(rootAbs);
        Path tmp = Files.createTempDirectory(rootAbs, "." + modality.folderName() + ".partial-");
        List<Entry> entries = new ArrayList<>();
        try {
            for (Assigned a : scans) {
                entries.addAll(write(a.scan(), a.split(), tmp));
            }
            Files.move(tmp, modalityDir); // a rename within ROOT
        } catch (IOException | RuntimeException | Error e) {
            deleteTree(tmp);
            throw e;
        }
        int[] counts = new int[SPLITS.size()];
        for (Assigned a : scans) {
            counts[SPLITS.indexOf(a.split())]++;
        }
        writeManifest(manifest, input, modality, counts, entries);
        return new Result(modalityDir, manifest, entries, counts);
    }

    private int variants(String split) {
        return split.equals(Split.TRAIN.folderName()) ? synthVariants : 0;
    }

    private static String synthSuffix(int variant) {
        return variant == 0 ? "" : ".synth" + variant;
    }

    private int[] axes(String split) {
        return split.equals(Split.TRAIN.folderName()) ? trainAxes : new int[] {0};
    }

    /** The file stem of a scan's pair sliced along {@code axis}: the scan's stem, plus ".axisN" for N > 0. */
    public static String pairStem(Scan scan, int axis) {
        return stem(scan) + (axis == 0 ? "" : ".axis" + axis);
    }

    /** The pairs of one scan, one per axis of its split. */
    private List<Entry> write(Scan s, String part, Path tree) throws IOException {
        Volume stored = VolumeFormats.read(s.source());
        List<Entry> out = new ArrayList<>();
        MriSynth synth = null;
        if (variants(part) > 0) {
            try {
                synth = MriSynth.fit(stored.voxels(), SYNTH_CLASSES);
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(s.source(), e.getMessage());
            }
        }
        for (int axis : axes(part)) {
            Volume view = stored.resliced(axis);
            out.add(write(s, view, axis, 0, part, tree));
            for (int variant = 1; variant <= variants(part); variant++) {
                // the variant's own seed, so that adding variants leaves the earlier ones as they were
                long synthSeed = scanSeed(seed, s.name() + "#axis" + axis + "#synth" + variant);
                Volume hq = Simulation.apply(view, synth::apply, synthSeed, threads, s.source());
                out.add(write(s, hq, axis, variant, part, tree));
            }
        }
        return out;
    }

    private Entry write(Scan s, Volume hq, int axis, int variant, String part, Path tree) throws IOException {
        if (phantom != null) {
            hq = Simulation.apply(hq, bind(phantom, hq, s).op(), 0, threads, s.source());
        }
        // axis 0 keeps the seed simulate --seed would use; other views and variants get their own noise
        String key = s.name() + (axis == 0 ? "" : "#axis" + axis) + (variant == 0 ? "" : "#synth" + variant + "#lq");
        long scanSeed = scanSeed(seed, key);
        Simulation.Bound bound = bind(simulation, hq, s);
        Volume lq = Simulation.apply(hq, bound.op(), scanSeed, threads, s.source());
        // cropped after the degradation, so that slice k keeps the noise of simulate's slice k
        int[] range = contentRange(hq, minContent);
        if (range[0] > 0 || range[1] < hq.depth()) {
            hq = slices(hq, range[0], range[1]);
            lq = slices(lq, range[0], range[1]);
        }
        String file = pairStem(s, axis) + synthSuffix(variant) + format.extension();
        Path dir = tree.resolve(part);
        VolumeFormats.write(dir.resolve("HQ").resolve(file), hq);
        String description = variant == 0 ? bound.description()
                : "mri-synth variant " + variant + " (" + SYNTH_CLASSES + " intensity classes), then " + bound.description();
        VolumeFormats.write(dir.resolve("LQ").resolve(file), lq, org.restorerwkv.io.dicom.Derivation.simulated(description));
        return new Entry(s.name(), file, part, scanSeed, new int[] {hq.depth(), hq.height(), hq.width()},
                range, description, axis);
    }

    /**
     * The slices [first, end) to keep: from the first to the last slice of which at least
     * {@code minContent} of the voxels are foreground, i.e. above lo + 0.1 (hi - lo) with lo the
     * volume's minimum and hi its 99.5th percentile (air / background lies below, tissue above, in
     * HU, MRI intensity or activity alike). Slices in between are kept whatever they hold, so the
     * volume stays contiguous. All slices when {@code minContent} is 0, or when none qualifies.
     */
    public static int[] contentRange(Volume v, double minContent) {
        if (!(minContent > 0)) {
            return new int[] {0, v.depth()};
        }
        float[] vox = v.voxels();
        float[] sorted = vox.clone();
        Arrays.sort(sorted);
        float lo = sorted[0];
        float hi = sorted[(int) Math.min(sorted.length - 1, Math.round(0.995 * (sorted.length - 1)))];
        double threshold = lo + 0.1 * (hi - lo);
        int n = v.sliceSize();
        int first = -1;
        int last = -1;
        for (int k = 0; k < v.depth(); k++) {
            int fg = 0;
            for (int i = k * n; i < (k + 1) * n; i++) {
                if (vox[i] > threshold) {
                    fg++;
                }
            }
            if (fg >= minContent * n) {
                first = first < 0 ? k : first;
                last = k;
            }
        }
        return first < 0 ? new int[] {0, v.depth()} : new int[] {first, last + 1};
    }

    /**
     * Slices [from, to) of a volume: the affine's origin moves to slice {@code from}; the source
     * metadata is dropped (its slice count and positions no longer apply).
     */
    static Volume slices(Volume v, int from, int to) {
        float[] vox = Arrays.copyOfRange(v.voxels(), from * v.sliceSize(), to * v.sliceSize());
        double[] a = v.affine().clone();
        for (int r = 0; r < 3; r++) {
            a[4 * r + 3] += from * a[4 * r + 2];
        }
        return new Volume(to - from, v.height(), v.width(), vox, v.spacing().clone(), a, null, List.of());
    }

    /** Binds to a scan, naming the scan when its geometry does not fit the simulator. */
    private static Simulation.Bound bind(Simulation sim, Volume v, Scan s) throws InvalidInputException {
        try {
            return sim.bind(v);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(s.source(), e.getMessage());
        }
    }

    private void writeManifest(Path manifest, Map<String, Object> input, Modality modality, int[] counts,
            List<Entry> entries) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task", simulation.task());
        m.put("modality", modality.folderName());
        m.put("parameters", simulation.params());
        if (phantom != null) {
            m.put("hq_from", Simulation.PET_PHANTOM + " of each input (T1 MRI)");
        }
        m.put("seed", seed);
        if (input.containsKey("split_fractions")) {
            m.put("split_fractions", input.get("split_fractions"));
        } else {
            m.put("split_by", input.get("split_by"));
        }
        Map<String, Integer> c = new LinkedHashMap<>();
        for (int i = 0; i < counts.length; i++) {
            c.put(SPLITS.get(i), counts[i]);
        }
        m.put("split_counts", c);
        m.put("format", format.extension().substring(1));
        if (input.containsKey("input")) {
            m.put("input", input.get("input"));
        } else {
            m.put("inputs", input.get("inputs"));
        }
        m.put("min_content", minContent);
        m.put("train_axes", trainAxes);
        if (synthVariants > 0) {
            m.put("synth_variants", synthVariants);
            m.put("synth", MriSynth.describe(SYNTH_CLASSES));
        }
        List<Map<String, Object>> scans = new ArrayList<>();
        for (Entry e : entries) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("scan", e.scan());
            s.put("file", e.file());
            s.put("axis", e.axis());
            s.put("split", e.split());
            s.put("seed", e.seed());
            s.put("shape", e.shape());
            s.put("slices", e.slices());
            s.put("simulation", e.simulation());
            scans.add(s);
        }
        m.put("scans", scans);
        String json = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(m) + "\n";
        AtomicFiles.write(manifest, json.getBytes(StandardCharsets.UTF_8));
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // best effort: a hidden leftover folder is harmless and named .partial
        }
    }
}
