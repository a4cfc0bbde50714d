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
import org.restorerwkv.data.Modality;
import org.restorerwkv.infer.EffectiveReceptiveField;
import org.restorerwkv.infer.EffectiveReceptiveField.GradientMap;
import org.restorerwkv.infer.Restorer;
import org.restorerwkv.io.HeatMapPng;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Npy;
import org.restorerwkv.model.RestoreRwkv;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The effective receptive field of a model (paper Fig. 1) as a heat map. */
@Command(name = "erf", mixinStandardHelpOptions = true,
        description = {"Effective receptive field (paper Fig. 1): gradient of the centre output pixel w.r.t. the input,"
                + " averaged over slices, shown as g^0.25 rescaled to [0,1] in the inferno colormap.",
                "Slices come from one .npy ((H,W) or (D,H,W)) or every .npy in a folder; with more than --limit,"
                + " --limit evenly spaced ones are used. Without --weights, --config gives a randomly initialized"
                + " network (--seed)."})
public final class ErfCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--input", required = true, paramLabel = "DIR|FILE", description = "A .npy slice or stack, or a folder of them.")
    Path input;

    @Option(names = "--out", required = true, paramLabel = "PNG", description = "Heat map to write.")
    Path out;

    @Option(names = "--npy", paramLabel = "FILE", description = "Also write the raw averaged gradient map (H, W) as .npy.")
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
        List<Slice> slices = select(readSlices(), limit);
        List<HostTensor> images = new ArrayList<>();
        for (Slice s : slices) {
            HostTensor img = prepare(s, mod);
            long[] first = images.isEmpty() ? img.shape() : images.get(0).shape();
            if (!Arrays.equals(first, img.shape())) {
                throw new InvalidInputException(s.file(), "slice of " + img.shape()[0] + "x" + img.shape()[1] + " differs from "
                        + slices.get(0).file().getFileName() + " (" + first[0] + "x" + first[1] + "): pass --size N to crop all to one size");
            }
            images.add(img);
        }
        long t0 = System.nanoTime();
        GradientMap map;
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
            map = EffectiveReceptiveField.compute(net, manager, images);
        }
        HeatMapPng.write(out, map.display(), map.height(), map.width(), scale);
        if (npy != null) {
            Npy.write(npy, new HostTensor(new long[] {map.height(), map.width()}, map.values()));
        }
        System.out.printf(Locale.ROOT, "erf: %d slices of %dx%d, centre (%d, %d): 50%% of the gradient mass within"
                        + " radius %.1f px, 90%% within %.1f px; %s (%.1f s)%n",
                map.images(), map.height(), map.width(), map.centreRow(), map.centreColumn(),
                map.radiusContaining(0.5), map.radiusContaining(0.9), out, (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    /** Every slice of the input file, or of the folder's .npy files in name order. */
    private List<Slice> readSlices() throws IOException {
        List<Path> files;
        if (Files.isDirectory(input)) {
            try (Stream<Path> s = Files.list(input)) {
                files = s.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy"))
                        .filter(Files::isRegularFile).sorted().toList();
            }
            if (files.isEmpty()) {
                throw new InvalidInputException(input, "folder holds no .npy files");
            }
        } else {
            files = List.of(input);
        }
        List<Slice> out = new ArrayList<>();
        for (Path f : files) {
            HostTensor t = Npy.read(f);
            long[] s = t.shape();
            if ((s.length == 2 || s.length == 3) && (s[s.length - 1] < 1 || s[s.length - 2] < 1)) {
                throw new InvalidInputException(f, "empty slices, shape " + Arrays.toString(s));
            }
            if (s.length == 2) {
                out.add(new Slice(f, t));
            } else if (s.length == 3) {
                int plane = Math.toIntExact(s[1] * s[2]);
                for (int d = 0; d < s[0]; d++) {
                    float[] data = Arrays.copyOfRange(t.data(), d * plane, (d + 1) * plane);
                    out.add(new Slice(f, new HostTensor(new long[] {s[1], s[2]}, data)));
                }
            } else {
                throw new InvalidInputException(f, "expected a slice (H,W) or a stack (D,H,W), got shape " + Arrays.toString(s));
            }
        }
        if (out.isEmpty()) {
            throw new InvalidInputException(input, "no slices (a stack of depth 0)");
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
    private HostTensor prepare(Slice s, Modality mod) throws IOException {
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
        return new HostTensor(new long[] {h, w}, mod.normalize(data));
    }
}
