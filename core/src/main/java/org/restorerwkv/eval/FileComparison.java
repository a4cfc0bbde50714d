package org.restorerwkv.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.data.SliceSource;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.eval.Evaluation;
import org.restorerwkv.eval.MetricAccumulator;

/**
 * Metrics of restored images against their targets, both already in physical units (the
 * {@code eval --pred P --target T} logic): two files, or two folders whose files are matched by
 * name. Every slice is evaluated with the reference protocol ({@link Evaluation#evaluate}); a file
 * holding NaN or an infinity is refused.
 */
public final class FileComparison {

    private FileComparison() {}

    public static MetricAccumulator compare(Path pred, Path target, Modality modality, SliceSource source)
            throws IOException {
        MetricAccumulator acc = new MetricAccumulator();
        boolean predDir = Files.isDirectory(pred);
        boolean targetDir = Files.isDirectory(target);
        if (!Files.exists(pred)) {
            throw new InvalidInputException(pred, "no such file or folder");
        }
        if (!Files.exists(target)) {
            throw new InvalidInputException(target, "no such file or folder");
        }
        if (predDir != targetDir) {
            throw new InvalidInputException(pred, "prediction and target must both be files or both be folders");
        }
        if (!predDir) {
            compareFiles(pred, target, pred.getFileName().toString(), modality, source, acc);
            return acc;
        }
        Map<String, Path> p = list(pred, source);
        Map<String, Path> t = list(target, source);
        for (Map.Entry<String, Path> e : t.entrySet()) {
            if (!p.containsKey(e.getKey())) {
                throw new InvalidInputException(e.getValue(), "no prediction of the same name in " + pred);
            }
        }
        for (Map.Entry<String, Path> e : p.entrySet()) {
            if (!t.containsKey(e.getKey())) {
                throw new InvalidInputException(e.getValue(), "no target of the same name in " + target);
            }
        }
        if (t.isEmpty()) {
            throw new InvalidInputException(target, "no readable image files");
        }
        for (String name : t.keySet()) {
            compareFiles(p.get(name), t.get(name), name, modality, source, acc);
        }
        return acc;
    }

    private static void compareFiles(Path pred, Path target, String name, Modality modality, SliceSource source,
            MetricAccumulator acc) throws IOException {
        HostTensor p = source.read(pred);
        HostTensor t = source.read(target);
        requireFinite(pred, p);
        requireFinite(target, t);
        if (!Arrays.equals(p.shape(), t.shape())) {
            throw new InvalidInputException(pred, "shape " + p.shapeString() + " differs from the target's "
                    + t.shapeString() + " (" + target + ")");
        }
        int depth = (int) t.shape()[0];
        int h = (int) t.shape()[1];
        int w = (int) t.shape()[2];
        int area = h * w;
        for (int k = 0; k < depth; k++) {
            float[] ps = Arrays.copyOfRange(p.data(), k * area, (k + 1) * area);
            float[] ts = Arrays.copyOfRange(t.data(), k * area, (k + 1) * area);
            acc.add(depth == 1 ? name : name + "#" + k, modality, Evaluation.evaluate(modality, ps, ts, h, w));
        }
    }

    /** NaN and ±Inf are refused alike: the window would turn an infinity into a plausible finite value. */
    private static void requireFinite(Path file, HostTensor t) throws InvalidInputException {
        long bad = VolumeFormats.countNonFinite(t.data());
        if (bad > 0) {
            throw new InvalidInputException(file, bad + " voxel(s) are NaN or infinite; metrics need finite values");
        }
    }

    private static Map<String, Path> list(Path dir, SliceSource source) throws IOException {
        Map<String, Path> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(Files::isRegularFile).filter(source::accepts).forEach(f -> {
                // matched by name without the image extension: a .nii.gz prediction pairs with a .npy target
                Path previous = out.put(VolumeFormats.stem(f.getFileName().toString()), f);
                if (previous != null) {
                    throw new IllegalArgumentException(f + " and " + previous + " have the same name");
                }
            });
        }
        return out;
    }
}
