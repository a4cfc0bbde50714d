package org.restorerwkv.data;

import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.domain.Modality;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;

/**
 * Paired low-quality / high-quality images of one split, in the layout
 * {@code ROOT/{CT,MRI,PET}/{train,validation,test}/{LQ,HQ}/}. LQ and HQ files are matched by file
 * name; the modality comes from the folder. Every file is split into its 2-D slices; slices are
 * indexed in a fixed order (modality, file name, slice number).
 *
 * <p>Construction reads every pair once, to check that LQ and HQ shapes agree and to count the
 * slices. Normalized pairs are then kept in a least-recently-used cache bounded by
 * {@code cacheBytes}; a pair evicted from it is read again when needed. Thread-safe.
 */
public final class PairedDataset {

    /** One LQ/HQ file pair. */
    public record FilePair(Modality modality, String name, Path lq, Path hq, int depth, int height, int width) {}

    /** One 2-D slice of a pair. */
    public record SliceRef(int pair, int slice) {}

    /**
     * A normalized slice pair, values in [0,1] (row-major h x w); {@code scale} is its scan's
     * {@link IntensityScaling#factor} (1 under the fixed ranges), needed to map values back.
     */
    public record SlicePair(Modality modality, String name, int height, int width, float[] lq, float[] hq, double scale) {}

    private final Split split;
    private final SliceSource source;
    private final IntensityScaling scaling;
    private final List<Double> scales = new ArrayList<>();
    private final List<FilePair> pairs = new ArrayList<>();
    private final List<SliceRef> slices = new ArrayList<>();
    private final Map<Modality, List<Integer>> slicesByModality = new EnumMap<>(Modality.class);
    private final long cacheBytes;
    private final LinkedHashMap<Integer, float[][]> cache = new LinkedHashMap<>(16, 0.75f, true);
    private long cachedBytes;

    /**
     * Indexes a split.
     *
     * @param modalities the modality folders to use; a requested folder that is absent is an error
     * @throws InvalidInputException for an unmatched file (naming it), mismatching LQ/HQ shapes, an
     *     unreadable file, or a split with no slices
     */
    public PairedDataset(Path root, Split split, Collection<Modality> modalities, SliceSource source, long cacheBytes)
            throws IOException {
        this(root, split, modalities, source, cacheBytes, IntensityScaling.FIXED);
    }

    /** As above, with each scan normalized under {@code scaling} (its LQ's factor for both images). */
    public PairedDataset(Path root, Split split, Collection<Modality> modalities, SliceSource source, long cacheBytes,
            IntensityScaling scaling) throws IOException {
        this.split = split;
        this.source = source;
        this.scaling = scaling;
        this.cacheBytes = cacheBytes;
        for (Modality m : modalities.stream().distinct().sorted().toList()) {
            Path dir = root.resolve(m.folderName()).resolve(split.folderName());
            Path lqDir = dir.resolve("LQ");
            Path hqDir = dir.resolve("HQ");
            Map<String, Path> lq = list(lqDir);
            Map<String, Path> hq = list(hqDir);
            for (String name : lq.keySet()) {
                if (!hq.containsKey(name)) {
                    throw new InvalidInputException(lq.get(name), "no HQ file of the same name in " + hqDir);
                }
            }
            for (String name : hq.keySet()) {
                if (!lq.containsKey(name)) {
                    throw new InvalidInputException(hq.get(name), "no LQ file of the same name in " + lqDir);
                }
            }
            List<Integer> ofModality = new ArrayList<>();
            for (String name : lq.keySet()) {
                Loaded data = readPair(m, lq.get(name), hq.get(name), pairs.size());
                long[] shape = data.shape();
                int index = pairs.size();
                pairs.add(new FilePair(m, name, lq.get(name), hq.get(name), (int) shape[0], (int) shape[1], (int) shape[2]));
                scales.add(data.scale());
                put(index, data.lqHq());
                for (int s = 0; s < shape[0]; s++) {
                    ofModality.add(slices.size());
                    slices.add(new SliceRef(index, s));
                }
            }
            if (!ofModality.isEmpty()) {
                slicesByModality.put(m, Collections.unmodifiableList(ofModality));
            }
        }
        if (slices.isEmpty()) {
            throw new InvalidInputException(root, "no image pairs in the " + split.folderName() + " split of "
                    + modalities);
        }
    }

    /** A pair as read: its (depth, height, width), the normalized {lq, hq} and the scan's factor. */
    private record Loaded(long[] shape, float[][] lqHq, double scale) {}

    private Map<String, Path> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(dir, "missing folder (expected ROOT/{CT,MRI,PET}/{train,validation,test}/{LQ,HQ})");
        }
        Map<String, Path> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(Files::isRegularFile).filter(source::accepts)
                    .forEach(p -> out.put(p.getFileName().toString(), p));
        }
        return out;
    }

    /** Reads and normalizes one pair. */
    private Loaded readPair(Modality m, Path lqFile, Path hqFile, int index) throws IOException {
        HostTensor lq = source.read(lqFile);
        HostTensor hq = source.read(hqFile);
        if (!Arrays.equals(lq.shape(), hq.shape())) {
            throw new InvalidInputException(lqFile, "shape " + lq.shapeString() + " differs from its HQ file's "
                    + hq.shapeString() + " (" + hqFile + ")");
        }
        if (index < pairs.size()) {
            FilePair p = pairs.get(index);
            if (lq.shape()[0] != p.depth() || lq.shape()[1] != p.height() || lq.shape()[2] != p.width()) {
                throw new InvalidInputException(lqFile, "changed shape since the dataset was indexed");
            }
        }
        double f = scaling.factor(m, lq.data());
        return new Loaded(lq.shape(), new float[][] {m.normalize(lq.data(), f), m.normalize(hq.data(), f)}, f);
    }

    private synchronized void put(int index, float[][] data) {
        long bytes = 4L * (data[0].length + data[1].length);
        cache.put(index, data);
        cachedBytes += bytes;
        Iterator<Map.Entry<Integer, float[][]>> it = cache.entrySet().iterator();
        while (cachedBytes > cacheBytes && it.hasNext()) {
            Map.Entry<Integer, float[][]> e = it.next();
            if (e.getKey() == index) {
                continue;
            }
            cachedBytes -= 4L * (e.getValue()[0].length + e.getValue()[1].length);
            it.remove();
        }
    }

    private float[][] pairData(int index) throws IOException {
        synchronized (this) {
            float[][] d = cache.get(index);
            if (d != null) {
                return d;
            }
        }
        FilePair p = pairs.get(index);
        float[][] d;
        synchronized (source) {
            d = readPair(p.modality(), p.lq(), p.hq(), index).lqHq();
        }
        put(index, d);
        return d;
    }

    /** The normalized slice number {@code i} of the index. */
    public SlicePair slice(int i) throws IOException {
        SliceRef r = slices.get(i);
        FilePair p = pairs.get(r.pair());
        float[][] d = pairData(r.pair());
        int n = p.height() * p.width();
        float[] lq = Arrays.copyOfRange(d[0], r.slice() * n, (r.slice() + 1) * n);
        float[] hq = Arrays.copyOfRange(d[1], r.slice() * n, (r.slice() + 1) * n);
        return new SlicePair(p.modality(), sliceName(i), p.height(), p.width(), lq, hq, scales.get(r.pair()));
    }

    /** "MOD/file" for a one-slice file, "MOD/file#k" for slice k of a stack. */
    public String sliceName(int i) {
        SliceRef r = slices.get(i);
        FilePair p = pairs.get(r.pair());
        String base = p.modality().folderName() + "/" + p.name();
        return p.depth() == 1 ? base : base + "#" + r.slice();
    }

    public Split split() {
        return split;
    }

    /** The intensity scaling the scans are normalized with. */
    public IntensityScaling scaling() {
        return scaling;
    }

    /** The factor of pair {@code pair} ({@link IntensityScaling#factor} of its LQ scan). */
    public double scaleOfPair(int pair) {
        return scales.get(pair);
    }

    public List<FilePair> pairs() {
        return Collections.unmodifiableList(pairs);
    }

    public List<SliceRef> slices() {
        return Collections.unmodifiableList(slices);
    }

    public int size() {
        return slices.size();
    }

    /** Modalities with at least one slice, in enum order. */
    public List<Modality> modalities() {
        return List.copyOf(slicesByModality.keySet());
    }

    /** Indices (into {@link #slices()}) of the slices of one modality. */
    public List<Integer> slicesOf(Modality m) {
        return slicesByModality.getOrDefault(m, List.of());
    }

    /** The slice indices that belong to a pair, in slice order. */
    public List<Integer> slicesOfPair(int pair) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < slices.size(); i++) {
            if (slices.get(i).pair() == pair) {
                out.add(i);
            }
        }
        return out;
    }
}
