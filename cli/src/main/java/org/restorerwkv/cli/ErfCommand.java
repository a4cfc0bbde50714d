package org.restorerwkv.cli;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.restorerwkv.checkpoint.BuiltinModels;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.infer.EffectiveReceptiveField;
import org.restorerwkv.infer.EffectiveReceptiveField.GradientMap;
import org.restorerwkv.infer.Restorer;
import org.restorerwkv.io.HeatMapPng;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.ImageFormat;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Npy;
import org.restorerwkv.io.Panels;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.model.RestoreRwkv;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The effective receptive field of a model (paper Fig. 1) as a heat map. */
@Command(name = "erf", mixinStandardHelpOptions = true,
        description = {"Effective receptive field (paper Fig. 1): gradient of the centre output pixel w.r.t. the input,"
                + " averaged over slices, shown as g^0.25 rescaled to [0,1] in the inferno colormap.",
                "Slices come from one scan (NIfTI, DICOM file or series directory, NPY/NPZ, PNG, TIFF) or every scan"
                + " of a directory; with more than --limit, --limit evenly spaced ones are used. Without --weights, --config gives a randomly initialized"
                + " network (--seed).",
                "Several --weights compare models (paper Fig. 1): one labelled panel each, every map divided by its total"
                + " (the panels compare the spread, not the gain) and drawn on one colour scale; the radii holding 50% and"
                + " 90% of the mass are printed per model."})
public final class ErfCommand implements Callable<Integer> {

    @Option(names = "--weights", paramLabel = "FILE|builtin:NAME",
            description = "Model weights (.pth, .safetensors or builtin:NAME); repeat to compare models side by side.")
    List<String> weights = new ArrayList<>();

    @Option(names = "--labels", split = ",", paramLabel = "L",
            description = "Panel labels, one per --weights (default: the weights' file names).")
    List<String> labels;

    @Option(names = "--config", paramLabel = "NAME|FILE",
            description = "default, light, or a JSON file (inp_channels, out_channels, dim, num_blocks, num_refinement_blocks,"
                    + " recurrence, hidden_rate, token_shift). Default: read from the weights.")
    String config;

    @Option(names = "--device", paramLabel = "cpu|gpu", defaultValue = "cpu", description = "Where to run (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads for libtorch and the fused kernels (default: all cores).")
    Integer threads;

    @Option(names = "--input", required = true, paramLabel = "DIR|FILE", description = "A scan, a DICOM series directory, or a directory of scans.")
    Path input;

    @Option(names = "--out", required = true, paramLabel = "PNG", description = "Heat map to write.")
    Path out;

    @Option(names = "--npy", paramLabel = "FILE",
            description = "Also write the raw averaged gradient map (H, W) as .npy; (N, H, W) for N --weights.")
    Path npy;

    @Option(names = "--size", paramLabel = "N",
            description = "Centre-crop every slice to N x N (a multiple of 8). Default: the slices' own size, cropped to a multiple of 8.")
    Integer size;

    @Option(names = "--limit", defaultValue = "32", paramLabel = "K", description = "At most K slices (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--modality", defaultValue = "none", paramLabel = "ct|mri|pet|none",
            description = "Normalization of the slices before the network (default: ${DEFAULT-VALUE}).")
    String modality;

    @Option(names = "--scale", defaultValue = "1", paramLabel = "S", description = "Each map pixel drawn as S x S PNG pixels (default: ${DEFAULT-VALUE}).")
    int scale;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the random weights when no --weights is given (default: ${DEFAULT-VALUE}).")
    long seed;

    /** A slice and the file it came from (for error messages). */
    private record Slice(Path file, HostTensor image) {}

    @Override
    public Integer call() throws Exception {
        Modality mod = Modality.parse(modality);
        if (limit < 1) {
            throw new IllegalArgumentException("--limit must be >= 1, got " + limit);
        }
        if (size != null && (size < Restorer.MULTIPLE || size % Restorer.MULTIPLE != 0)) {
            throw new IllegalArgumentException("--size must be a positive multiple of " + Restorer.MULTIPLE + ", got " + size);
        }
        if (!Files.exists(input)) {
            throw new InvalidInputException(input, "no such file or folder");
        }
        for (Path o : npy == null ? List.of(out) : List.of(out, npy)) {
            if (Files.exists(o) && !Files.isDirectory(input) && Files.isSameFile(input, o)) {
                throw new InvalidInputException(o, "the output would overwrite the input");
            }
        }
        if (labels != null && labels.size() != weights.size()) {
            throw new IllegalArgumentException("--labels gives " + labels.size() + " labels for " + weights.size() + " --weights");
        }
        List<Slice> slices = select(readSlices(), limit);
        // without --weights: one model, random with --config, else the default built-in one
        List<String> specs = weights.isEmpty() ? java.util.Collections.singletonList(null) : weights;
        List<GradientMap> maps = new ArrayList<>();
        List<String> names = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int m = 0; m < specs.size(); m++) {
            ModelOptions model = options(specs.get(m));
            maps.add(map(model, slices, mod));
            names.add(labels != null ? labels.get(m) : label(model));
        }
        if (maps.size() == 1) {
            GradientMap map = maps.get(0);
            HeatMapPng.write(out, map.display(), map.height(), map.width(), scale);
        } else {
            List<float[]> shown = GradientMap.displayShared(maps);
            List<Panels.Tile> tiles = new ArrayList<>();
            for (int m = 0; m < maps.size(); m++) {
                tiles.add(Panels.Tile.heat(shown.get(m), new ImageFormat.Window(0, 1)).labelled(names.get(m)));
            }
            Panels.write(out, maps.get(0).height(), maps.get(0).width(), tiles);
        }
        GradientMap first = maps.get(0);
        if (npy != null) {
            float[] all = new float[maps.size() * first.values().length];
            for (int m = 0; m < maps.size(); m++) {
                System.arraycopy(maps.get(m).values(), 0, all, m * first.values().length, first.values().length);
            }
            long[] shape = maps.size() == 1 ? new long[] {first.height(), first.width()}
                    : new long[] {maps.size(), first.height(), first.width()};
            Npy.write(npy, new HostTensor(shape, all));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        String slicesText = String.format(Locale.ROOT, "%d slice%s of %dx%d, centre (%d, %d)", first.images(),
                first.images() == 1 ? "" : "s", first.height(), first.width(), first.centreRow(), first.centreColumn());
        if (maps.size() == 1) {
            System.out.printf(Locale.ROOT, "erf: %s: 50%% of the gradient mass within radius %.1f px, 90%% within %.1f px;"
                    + " %s (%.1f s)%n", slicesText, first.radiusContaining(0.5), first.radiusContaining(0.9), out, seconds);
        } else {
            System.out.printf(Locale.ROOT, "erf: %s; radius holding 50%% / 90%% of the gradient mass:%n", slicesText);
            for (int m = 0; m < maps.size(); m++) {
                System.out.printf(Locale.ROOT, "erf: %s: %.1f px / %.1f px%n", names.get(m),
                        maps.get(m).radiusContaining(0.5), maps.get(m).radiusContaining(0.9));
            }
            System.out.printf(Locale.ROOT, "erf: %d panels on one colour scale: %s (%.1f s)%n", maps.size(), out, seconds);
        }
        return 0;
    }

    /** The shared model options for one weights argument (null: none given). */
    private ModelOptions options(String spec) {
        ModelOptions o = new ModelOptions();
        o.weights = spec;
        o.config = config;
        o.device = device;
        o.threads = threads;
        return o;
    }

    /** A panel label: the built-in model's name, the file name without extension, or the random model. */
    private String label(ModelOptions o) {
        if (o.weights == null) {
            return o.config != null ? "random seed " + seed : Weights.specOrDefault(null);
        }
        if (BuiltinModels.isBuiltin(o.weights)) {
            return o.weights.substring(BuiltinModels.PREFIX.length());
        }
        String name = Path.of(o.weights).getFileName().toString();
        int dot = name.indexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    /** One model's averaged gradient map over the slices (normalized as that model was trained). */
    private GradientMap map(ModelOptions model, List<Slice> slices, Modality mod) throws IOException {
        // slices are normalized as the model was trained (random weights: the fixed ranges)
        IntensityScaling scaling = model.weights == null && model.config != null ? IntensityScaling.FIXED
                : Weights.scalingOf(Weights.specOrDefault(model.weights));
        List<HostTensor> images = new ArrayList<>();
        for (Slice s : slices) {
            HostTensor img = prepare(s, mod, scaling);
            long[] first = images.isEmpty() ? img.shape() : images.get(0).shape();
            if (!Arrays.equals(first, img.shape())) {
                throw new InvalidInputException(s.file(), "slice of " + img.shape()[0] + "x" + img.shape()[1] + " differs from "
                        + slices.get(0).file().getFileName() + " (" + first[0] + "x" + first[1] + "): pass --size N to crop all to one size");
            }
            images.add(img);
        }
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
            RestoreRwkv net;
            if (model.weights == null && model.config != null) {
                model.applyThreads();
                net = RestoreRwkv.create(model.configOrNull(), manager, seed);
            } else {
                net = model.load(manager);
            }
            if (net.config().inpChannels() != 1) {
                throw new IllegalArgumentException("erf reads one-channel slices; the model takes "
                        + net.config().inpChannels() + " channels");
            }
            return EffectiveReceptiveField.compute(net, manager, images);
        }
    }

    /**
     * Every slice of the input: one scan (any format {@link VolumeFormats} reads, a DICOM series
     * directory included), or every scan of a directory of scans, in name order.
     */
    private List<Slice> readSlices() throws IOException {
        List<Path> scans = new ArrayList<>();
        if (Files.isDirectory(input) && !RestoreCommand.isDicomSeries(input)) {
            try (Stream<Path> s = Files.list(input)) {
                s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().forEach(scans::add);
            }
            if (scans.isEmpty()) {
                throw new InvalidInputException(input, "empty directory");
            }
        } else {
            scans.add(input);
        }
        List<Slice> out = new ArrayList<>();
        for (Path f : scans) {
            Volume v = VolumeFormats.read(f);
            for (int k = 0; k < v.depth(); k++) {
                out.add(new Slice(f, new HostTensor(new long[] {v.height(), v.width()}, v.slice(k))));
            }
        }
        if (out.isEmpty()) {
            throw new InvalidInputException(input, "no slices");
        }
        return out;
    }

    /** At most k slices, evenly spaced over the list (a volume's ends are often empty). */
    static <T> List<T> select(List<T> all, int k) {
        if (all.size() <= k) {
            return all;
        }
        List<T> out = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
            out.add(all.get((int) ((2L * i + 1) * all.size() / (2L * k))));
        }
        return out;
    }

    /** Centre-crops to --size and normalizes; one size for all slices without --size. */
    private HostTensor prepare(Slice s, Modality mod, IntensityScaling scaling) throws IOException {
        HostTensor t = s.image();
        int h = (int) t.shape()[0];
        int w = (int) t.shape()[1];
        float[] data = t.data();
        if (size != null) {
            if (h < size || w < size) {
                throw new InvalidInputException(s.file(), "slice of " + h + "x" + w + " is smaller than --size " + size);
            }
            int top = (h - size) / 2;
            int left = (w - size) / 2;
            float[] c = new float[size * size];
            for (int y = 0; y < size; y++) {
                System.arraycopy(data, (top + y) * w + left, c, y * size, size);
            }
            data = c;
            h = size;
            w = size;
        }
        for (float v : data) {
            if (!Float.isFinite(v)) {
                throw new InvalidInputException(s.file(), "slice holds a non-finite value (" + v + ")");
            }
        }
        return new HostTensor(new long[] {h, w}, mod.normalize(data, scaling.factor(mod, data)));
    }
}
