package org.restorerwkv.data;

import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.domain.Modality;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.restorerwkv.domain.Padding;

/**
 * Which slices, crops and augmentations make up each training batch, as a pure function of
 * (seed, iteration): batches can be built in any order on any thread, and a resumed run sees the
 * same data as an uninterrupted one.
 *
 * <p>Sample number k = iteration * batchSize + b. Slice order follows the reference's shuffled data
 * loader: epochs of a random permutation of all slices (uniform over slices, modalities pooled).
 * With {@code balanced}, samples cycle through the modalities (k mod M) and each modality runs its
 * own epochs of permutations, so every modality gets the same share whatever its size.
 *
 * <p>Crops are uniform over all positions. A slice smaller than the patch is reflect-padded (see
 * {@link Padding#reflect}) instead of rejected. Augmentation picks one of the 8 flips/rotations
 * by 90 degrees, uniformly.
 */
public final class PatchSampler {

    /**
     * One crop: slice, position, dihedral transform, and the intensity gain applied to MRI pairs
     * (1 unless augmenting; see {@link #MRI_GAIN_RANGE} and {@link #MRI_GAIN_RANGE_SCALED}).
     */
    public record Sample(int slice, int top, int left, int transform, float gain) {}

    /**
     * MRI intensities are in arbitrary units (T1 templates peak near 250, scanner series near 1000
     * or 4000 in the fixed [0, 4095] normalization range): augmentation scales each MRI pair by a
     * log-uniform gain in [1/2, 16] so the model does not learn one scanner's scale, and a template
     * that fills 6% of the range is also seen filling most of it (at its own scale its errors are
     * too small in L1 to be learned next to CT's and PET's). k-space truncation is linear, so a
     * scaled pair is still a valid pair. CT (HU) and PET (SUV) are absolute.
     */
    public static final double[] MRI_GAIN_RANGE = {0.5, 16.0};

    /**
     * Under {@link IntensityScaling#MRI_PERCENTILE} each scan's 99.5th percentile is already at one
     * level, so the gain only covers how far that estimate moves between scans: [0.8, 1.25].
     */
    public static final double[] MRI_GAIN_RANGE_SCALED = {0.8, 1.25};

    private static final long PERMUTATION = 0x5045524DL;
    private static final long CROP = 0x43524F50L;

    private final PairedDataset dataset;
    private final long seed;
    private final int batchSize;
    private final int patch;
    private final boolean augment;
    private final boolean balanced;
    private final List<Modality> modalities;
    private final Map<Long, int[]> permutations = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, int[]> e) {
            return size() > 8;
        }
    };

    public PatchSampler(PairedDataset dataset, long seed, int batchSize, int patch, boolean augment, boolean balanced) {
        if (batchSize < 1 || patch < 8 || patch % 8 != 0) {
            throw new IllegalArgumentException("batch size >= 1 and a patch size that is a positive multiple of 8 required");
        }
        this.dataset = dataset;
        this.seed = seed;
        this.batchSize = batchSize;
        this.patch = patch;
        this.augment = augment;
        this.balanced = balanced;
        this.modalities = dataset.modalities();
    }

    public int batchSize() {
        return batchSize;
    }

    public int patch() {
        return patch;
    }

    /** The b-th sample of the batch of an iteration. */
    public Sample sample(long iteration, int b) {
        long k = iteration * batchSize + b;
        int slice;
        if (balanced) {
            int m = (int) (k % modalities.size());
            long j = k / modalities.size();
            List<Integer> of = dataset.slicesOf(modalities.get(m));
            int[] perm = permutation(modalities.get(m).ordinal() + 1, j / of.size(), of.size());
            slice = of.get(perm[(int) (j % of.size())]);
        } else {
            int n = dataset.size();
            slice = permutation(0, k / n, n)[(int) (k % n)];
        }
        PairedDataset.FilePair p = dataset.pairs().get(dataset.slices().get(slice).pair());
        SplittableRandom r = random(CROP, k);
        int top = r.nextInt(Math.max(1, p.height() - patch + 1));
        int left = r.nextInt(Math.max(1, p.width() - patch + 1));
        int transform = augment ? r.nextInt(8) : 0;
        double[] range = dataset.scaling() == IntensityScaling.MRI_PERCENTILE ? MRI_GAIN_RANGE_SCALED : MRI_GAIN_RANGE;
        float gain = augment ? (float) Math.exp(Math.log(range[0]) + r.nextDouble() * Math.log(range[1] / range[0])) : 1f;
        return new Sample(slice, top, left, transform, gain);
    }

    /** Assembles the batch of an iteration (reads slices through the dataset's cache). */
    public Batch batch(long iteration) throws java.io.IOException {
        int area = patch * patch;
        float[] lq = new float[batchSize * area];
        float[] hq = new float[batchSize * area];
        Modality[] mods = new Modality[batchSize];
        String[] names = new String[batchSize];
        for (int b = 0; b < batchSize; b++) {
            Sample s = sample(iteration, b);
            PairedDataset.SlicePair sp = dataset.slice(s.slice());
            crop(sp.lq(), sp.height(), sp.width(), s, lq, b * area);
            crop(sp.hq(), sp.height(), sp.width(), s, hq, b * area);
            if (sp.modality() == Modality.MRI && s.gain() != 1f) {
                for (int i = b * area; i < (b + 1) * area; i++) {
                    lq[i] = Math.min(1f, lq[i] * s.gain()); // normalized values, clipped as the reference clips
                    hq[i] = Math.min(1f, hq[i] * s.gain());
                }
            }
            mods[b] = sp.modality();
            names[b] = sp.name();
        }
        return new Batch(iteration, batchSize, patch, lq, hq, mods, names);
    }

    /** Copies the transformed patch x patch crop of an h x w slice into {@code out} at {@code offset}. */
    void crop(float[] src, int h, int w, Sample s, float[] out, int offset) {
        int t = s.transform();
        for (int y = 0; y < patch; y++) {
            for (int x = 0; x < patch; x++) {
                // output (y, x) reads crop pixel (cy, cx) of the dihedral transform t
                int cy = y;
                int cx = x;
                if ((t & 4) != 0) { // transpose (with the flips below: the rotations by 90 degrees)
                    int tmp = cy;
                    cy = cx;
                    cx = tmp;
                }
                if ((t & 1) != 0) {
                    cy = patch - 1 - cy;
                }
                if ((t & 2) != 0) {
                    cx = patch - 1 - cx;
                }
                int sy = Padding.reflect(s.top() + cy, h);
                int sx = Padding.reflect(s.left() + cx, w);
                out[offset + y * patch + x] = src[sy * w + sx];
            }
        }
    }

    /** Permutation of 0..n-1 for one epoch of one stream (0 = pooled, 1+ordinal = one modality). */
    private int[] permutation(int stream, long epoch, int n) {
        long key = epoch * 16 + stream;
        synchronized (permutations) {
            int[] p = permutations.get(key);
            if (p == null) {
                p = new int[n];
                for (int i = 0; i < n; i++) {
                    p[i] = i;
                }
                SplittableRandom r = random(PERMUTATION + stream, epoch);
                for (int i = n - 1; i > 0; i--) { // Fisher-Yates
                    int j = r.nextInt(i + 1);
                    int tmp = p[i];
                    p[i] = p[j];
                    p[j] = tmp;
                }
                permutations.put(key, p);
            }
            return p;
        }
    }

    private SplittableRandom random(long stream, long index) {
        return new SplittableRandom(mix(mix(seed ^ mix(stream)) + index));
    }

    /** SplitMix64 finalizer: decorrelates nearby (seed, stream, index) triples. */
    static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
