package org.restorerwkv.eval;

import java.util.Arrays;

/**
 * Structural similarity exactly as the reference computes it (rwkv_ref.ssim): an 11x11 Gaussian
 * window (sigma 1.5, normalized to sum 1), zero padding of 5 so the map has the image's size, the
 * map averaged over every pixel (borders included), C1 = (0.01 R)^2, C2 = (0.03 R)^2.
 *
 * <p>Any H x W is accepted. The 2-D window is the outer product of a 1-D Gaussian, and zero padding
 * commutes with that split, so a horizontal pass followed by a vertical pass gives the same map in
 * O(H W 11 2). Horizontal results are kept in a ring of 11 rows; all sums are in double.
 */
final class Ssim {

    static final int SIZE = 11;
    static final int RADIUS = SIZE / 2;
    static final double SIGMA = 1.5;
    private static final double[] GAUSS = gaussian();
    /** The five local moments: E[a], E[b], E[a a], E[b b], E[a b]. */
    private static final int FIELDS = 5;

    private Ssim() {}

    /** The normalized 1-D Gaussian the window is the outer product of. */
    static double[] gaussian() {
        double[] g = new double[SIZE];
        double sum = 0;
        for (int k = 0; k < SIZE; k++) {
            double d = k - RADIUS;
            g[k] = Math.exp(-d * d / (2 * SIGMA * SIGMA));
            sum += g[k];
        }
        for (int k = 0; k < SIZE; k++) {
            g[k] /= sum;
        }
        return g;
    }

    /**
     * Mean SSIM of two H x W images (row-major). Arguments are validated by the caller
     * ({@link ImageMetrics#ssim}); {@code dataRange} must be positive.
     */
    static double compute(float[] a, float[] b, int height, int width, double dataRange) {
        double c1 = (0.01 * dataRange) * (0.01 * dataRange);
        double c2 = (0.03 * dataRange) * (0.03 * dataRange);
        // ring[slot][field * width + x]: horizontal pass of image row r lives in slot r % SIZE
        double[][] ring = new double[SIZE][FIELDS * width];
        double[] acc = new double[FIELDS * width];
        int nextRow = 0;
        double total = 0;
        for (int y = 0; y < height; y++) {
            int last = Math.min(height - 1, y + RADIUS);
            while (nextRow <= last) {
                horizontal(a, b, nextRow, width, ring[nextRow % SIZE]);
                nextRow++;
            }
            Arrays.fill(acc, 0);
            int kLo = Math.max(0, RADIUS - y);
            int kHi = Math.min(SIZE - 1, height - 1 - y + RADIUS);
            for (int k = kLo; k <= kHi; k++) {
                double g = GAUSS[k];
                double[] row = ring[(y + k - RADIUS) % SIZE];
                for (int i = 0; i < acc.length; i++) {
                    acc[i] += g * row[i];
                }
            }
            for (int x = 0; x < width; x++) {
                double mu1 = acc[x];
                double mu2 = acc[width + x];
                double s11 = acc[2 * width + x] - mu1 * mu1;
                double s22 = acc[3 * width + x] - mu2 * mu2;
                double s12 = acc[4 * width + x] - mu1 * mu2;
                total += ((2 * mu1 * mu2 + c1) * (2 * s12 + c2))
                        / ((mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2));
            }
        }
        return total / ((double) height * width);
    }

    /** Zero-padded 1-D Gaussian along row {@code y} of a, b, a*a, b*b, a*b into {@code out}. */
    private static void horizontal(float[] a, float[] b, int y, int width, double[] out) {
        int base = y * width;
        for (int x = 0; x < width; x++) {
            int kLo = Math.max(0, RADIUS - x);
            int kHi = Math.min(SIZE - 1, width - 1 - x + RADIUS);
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            for (int k = kLo; k <= kHi; k++) {
                double g = GAUSS[k];
                double va = a[base + x + k - RADIUS];
                double vb = b[base + x + k - RADIUS];
                sa += g * va;
                sb += g * vb;
                saa += g * va * va;
                sbb += g * vb * vb;
                sab += g * va * vb;
            }
            out[x] = sa;
            out[width + x] = sb;
            out[2 * width + x] = saa;
            out[3 * width + x] = sbb;
            out[4 * width + x] = sab;
        }
    }
}
