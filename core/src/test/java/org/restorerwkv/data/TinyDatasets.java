package org.restorerwkv.data;

import org.restorerwkv.domain.Modality;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.Npy;

/** Writes small synthetic paired datasets (smooth HQ, noisy LQ) in the dataset layout. */
public final class TinyDatasets {

    private TinyDatasets() {}

    /**
     * {@code files} pairs per split of one modality, each a (depth, h, w) .npy stack (2-D when
     * depth is 1), values in physical units: HQ a smooth pattern, LQ = 0.6 HQ + 0.1 + noise (normalized units).
     */
    public static void write(Path root, Modality m, String split, int files, int depth, int h, int w, long seed)
            throws IOException {
        // a smooth intensity change plus mild noise: learnable by a small network
        writePairs(root, m, split, files, depth, h, w, seed, 0.3, (norm, r) -> 0.6 * norm + 0.1 + 0.02 * r.nextGaussian());
    }

    /**
     * Like {@link #write}, but LQ = HQ + Gaussian noise of std {@code noise} in normalized units
     * (noise 0: LQ equals HQ), so that smoothing is the right restoration.
     */
    public static void writeNoisy(Path root, Modality m, String split, int files, int depth, int h, int w, double noise,
            long seed) throws IOException {
        writePairs(root, m, split, files, depth, h, w, seed, 0.2,
                (norm, r) -> noise == 0 ? norm : norm + noise * r.nextGaussian());
    }

    /** The LQ value (normalized) of a pixel whose HQ value is {@code norm}. */
    private interface Degrade {
        double apply(double norm, Random r);
    }

    /** HQ: a sinusoid pattern with random frequencies in [0.1, 0.1 + freqSpan) per slice; LQ from it. */
    private static void writePairs(Path root, Modality m, String split, int files, int depth, int h, int w, long seed,
            double freqSpan, Degrade lqOf) throws IOException {
        Random r = new Random(seed);
        double span = m.normHigh() - m.normLow();
        for (int f = 0; f < files; f++) {
            float[] hq = new float[depth * h * w];
            float[] lq = new float[hq.length];
            for (int d = 0; d < depth; d++) {
                double fx = 0.1 + freqSpan * r.nextDouble();
                double fy = 0.1 + freqSpan * r.nextDouble();
                double ph = r.nextDouble() * 6;
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int i = (d * h + y) * w + x;
                        double norm = 0.5 + 0.25 * Math.sin(fx * x + ph) * Math.cos(fy * y);
                        hq[i] = (float) (m.normLow() + norm * span);
                        double lqNorm = lqOf.apply(norm, r);
                        lq[i] = lqNorm == norm ? hq[i] : (float) (m.normLow() + lqNorm * span);
                    }
                }
            }
            long[] shape = depth == 1 ? new long[] {h, w} : new long[] {depth, h, w};
            Path dir = root.resolve(m.folderName()).resolve(split);
            String name = String.format("case%02d.npy", f);
            Npy.write(dir.resolve("HQ").resolve(name), new HostTensor(shape, hq));
            Npy.write(dir.resolve("LQ").resolve(name), new HostTensor(shape, lq));
        }
    }
}
