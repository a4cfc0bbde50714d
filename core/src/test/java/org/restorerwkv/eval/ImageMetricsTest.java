package org.restorerwkv.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ImageMetricsTest {

    private static float[] random(Random rnd, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (scale * rnd.nextDouble());
        }
        return x;
    }

    private static float[] noisy(Random rnd, float[] x, double sigma) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = (float) (x[i] + sigma * rnd.nextGaussian());
        }
        return y;
    }

    /** The reference formula written directly: full 11x11 window, zero padding 5, mean over the map. */
    private static double naiveSsim(float[] a, float[] b, int h, int w, double r) {
        double[] g = Ssim.gaussian();
        double c1 = (0.01 * r) * (0.01 * r);
        double c2 = (0.03 * r) * (0.03 * r);
        double total = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double m1 = 0, m2 = 0, e11 = 0, e22 = 0, e12 = 0;
                for (int dy = -5; dy <= 5; dy++) {
                    for (int dx = -5; dx <= 5; dx++) {
                        int yy = y + dy;
                        int xx = x + dx;
                        if (yy < 0 || yy >= h || xx < 0 || xx >= w) {
                            continue;
                        }
                        double k = g[dy + 5] * g[dx + 5];
                        double va = a[yy * w + xx];
                        double vb = b[yy * w + xx];
                        m1 += k * va;
                        m2 += k * vb;
                        e11 += k * va * va;
                        e22 += k * vb * vb;
                        e12 += k * va * vb;
                    }
                }
                double s11 = e11 - m1 * m1, s22 = e22 - m2 * m2, s12 = e12 - m1 * m2;
                total += ((2 * m1 * m2 + c1) * (2 * s12 + c2)) / ((m1 * m1 + m2 * m2 + c1) * (s11 + s22 + c2));
            }
        }
        return total / (h * w);
    }

    @Test
    void gaussianIsNormalizedAndSymmetric() {
        double[] g = Ssim.gaussian();
        assertEquals(11, g.length);
        double sum = 0;
        for (double v : g) {
            sum += v;
        }
        assertEquals(1.0, sum, 1e-15);
        assertEquals(g[0], g[10], 0);
        assertEquals(Math.exp(-25 / 4.5) / Math.exp(0), g[0] / g[5], 1e-15);
    }

    @Test
    void separableSsimEqualsTheDirectFormulaOnAnyShape() {
        Random rnd = new Random(11);
        int[][] shapes = {{1, 1}, {1, 20}, {20, 1}, {3, 17}, {12, 12}, {23, 9}, {40, 64}};
        for (int[] s : shapes) {
            int n = s[0] * s[1];
            float[] a = random(rnd, n, 100);
            float[] b = noisy(rnd, a, 10);
            double expected = naiveSsim(a, b, s[0], s[1], 100);
            assertEquals(expected, ImageMetrics.ssim(a, b, s[0], s[1], 100), 1e-12, s[0] + "x" + s[1]);
        }
    }

    @Test
    void ssimOfAnImageWithItselfIsOne() {
        Random rnd = new Random(3);
        float[] a = random(rnd, 30 * 50, 4095);
        assertEquals(1.0, ImageMetrics.ssim(a, a, 30, 50, 4095), 1e-12);
        assertEquals(1.0, ImageMetrics.ssim(a, a, 50, 30, 4095), 1e-12);
    }

    @Test
    void ssimDropsWithNoise() {
        Random rnd = new Random(5);
        float[] a = random(rnd, 32 * 48, 1);
        double mild = ImageMetrics.ssim(a, noisy(rnd, a, 0.02), 32, 48, 1);
        double strong = ImageMetrics.ssim(a, noisy(rnd, a, 0.3), 32, 48, 1);
        assertTrue(mild < 1 && strong < mild, mild + " vs " + strong);
    }

    @Test
    void metricsAreSymmetric() {
        Random rnd = new Random(9);
        float[] a = random(rnd, 17 * 29, 20);
        float[] b = noisy(rnd, a, 1);
        assertEquals(ImageMetrics.psnr(a, b, 17, 29, 20), ImageMetrics.psnr(b, a, 17, 29, 20), 0);
        assertEquals(ImageMetrics.rmse(a, b, 17, 29), ImageMetrics.rmse(b, a, 17, 29), 0);
        assertEquals(ImageMetrics.ssim(a, b, 17, 29, 20), ImageMetrics.ssim(b, a, 17, 29, 20), 1e-14);
    }

    @Test
    void knownOffset() {
        Random rnd = new Random(1);
        float[] a = new float[8 * 13];
        float[] b = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = rnd.nextInt(100);
            b[i] = a[i] + 3;
        }
        SliceMetrics s = ImageMetrics.measure(b, a, 8, 13, 400);
        assertEquals(3.0, s.rmse(), 1e-12);
        assertEquals(9.0, ImageMetrics.mse(b, a, 8, 13), 1e-12);
        assertEquals(20 * Math.log10(400.0 / 3), s.psnr(), 1e-9);
        assertEquals(s.psnr(), ImageMetrics.psnr(b, a, 8, 13, 400), 0);
        assertEquals(s.ssim(), ImageMetrics.ssim(b, a, 8, 13, 400), 0);
    }

    @Test
    void identicalImagesHaveInfinitePsnr() {
        float[] a = {1, 2, 3, 4, 5, 6};
        SliceMetrics s = ImageMetrics.measure(a, a.clone(), 2, 3, 5);
        assertEquals(Double.POSITIVE_INFINITY, s.psnr());
        assertEquals(0.0, s.rmse());
        assertEquals(1.0, s.ssim(), 1e-12);
    }

    @Test
    void zeroDataRangeLeavesPsnrAndSsimUndefined() {
        float[] a = {1, 2, 3, 4};
        float[] b = {1, 2, 3, 6};
        SliceMetrics s = ImageMetrics.measure(a, b, 2, 2, 0);
        assertTrue(Double.isNaN(s.psnr()));
        assertTrue(Double.isNaN(s.ssim()));
        assertEquals(1.0, s.rmse(), 1e-12);
    }

    @Test
    void badInputsAreRejected() {
        float[] a = {1, 2, 3, 4};
        float[] nan = {1, 2, Float.NaN, 4};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageMetrics.measure(nan, a, 2, 2, 1));
        assertTrue(e.getMessage().contains("prediction contains NaN at row 1, column 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageMetrics.ssim(a, nan, 2, 2, 1));
        assertTrue(e.getMessage().contains("ground truth contains NaN"), e.getMessage());
        float[] inf = {1, Float.POSITIVE_INFINITY, 3, 4};
        e = assertThrows(IllegalArgumentException.class, () -> ImageMetrics.rmse(inf, a, 2, 2));
        assertTrue(e.getMessage().contains("infinite"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageMetrics.measure(a, a, 3, 2, 1));
        assertTrue(e.getMessage().contains("3x2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ImageMetrics.measure(a, new float[3], 2, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> ImageMetrics.measure(a, a, 0, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> ImageMetrics.measure(a, a, 2, 2, -1));
        assertThrows(IllegalArgumentException.class, () -> ImageMetrics.measure(a, a, 2, 2, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> ImageMetrics.measure(null, a, 2, 2, 1));
    }

    @Test
    void runsOnA512Slice() {
        Random rnd = new Random(2);
        float[] a = random(rnd, 512 * 512, 400);
        float[] b = noisy(rnd, a, 20);
        double s = ImageMetrics.ssim(a, b, 512, 512, 400);
        assertTrue(s > 0 && s < 1, Double.toString(s));
    }
}
