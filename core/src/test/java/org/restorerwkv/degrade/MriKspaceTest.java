package org.restorerwkv.degrade;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.jtransforms.fft.DoubleFFT_2D;
import org.junit.jupiter.api.Test;

class MriKspaceTest {

    /** A head-like test slice: a bright ellipse with texture, a dark disc, background 0. */
    static float[] slice(int h, int w, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] img = new float[h * w];
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                double y = (i - 0.5 * h) / (0.45 * h);
                double x = (j - 0.5 * w) / (0.4 * w);
                if (x * x + y * y < 1) {
                    double v = 1500 + 400 * Math.sin(0.9 * i) * Math.cos(0.7 * j) + 100 * rng.nextDouble();
                    if ((x - 0.2) * (x - 0.2) + y * y < 0.05) {
                        v = 300;
                    }
                    img[i * w + j] = (float) v;
                }
            }
        }
        return img;
    }

    /** Centred block of m frequencies after fftshift (DC at floor(n/2)), mapped to FFT order. */
    static boolean inBand(int idx, int n, int m) {
        int shifted = (idx + n / 2) % n; // fftshift position of FFT index idx
        int start = n / 2 - m / 2;
        return shifted >= start && shifted < start + m;
    }

    static double[] spectrum(double[] complex, int h, int w) {
        double[] a = complex.clone();
        new DoubleFFT_2D(h, w).complexForward(a);
        return a;
    }

    @Test
    void energyOutsideKeptBandVanishes() {
        int[][] sizes = {{64, 64}, {63, 50}, {37, 41}, {256, 256}};
        for (int[] hw : sizes) {
            int h = hw[0];
            int w = hw[1];
            for (double s : new double[] {2, 4, 3}) {
                MriKspace mri = new MriKspace(s);
                float[] img = slice(h, w, 1);
                double[] spec = spectrum(mri.complexImage(img, h, w, 0), h, w);
                int mh = (int) Math.floor(h / s);
                int mw = (int) Math.floor(w / s);
                double total = 0;
                double outside = 0;
                for (int i = 0; i < h; i++) {
                    for (int j = 0; j < w; j++) {
                        int p = 2 * (i * w + j);
                        double e = spec[p] * spec[p] + spec[p + 1] * spec[p + 1];
                        total += e;
                        if (!(inBand(i, h, mh) && inBand(j, w, mw))) {
                            outside += e;
                        }
                    }
                }
                assertTrue(outside < 1e-6 * total, h + "x" + w + " s=" + s + ": " + outside / total);
                // and the band itself is the input's band, untouched
                double[] in = new double[2 * h * w];
                for (int k = 0; k < img.length; k++) {
                    in[2 * k] = img[k];
                }
                double[] inSpec = spectrum(in, h, w);
                double bandIn = 0;
                double diff = 0;
                for (int i = 0; i < h; i++) {
                    for (int j = 0; j < w; j++) {
                        if (inBand(i, h, mh) && inBand(j, w, mw)) {
                            int p = 2 * (i * w + j);
                            bandIn += inSpec[p] * inSpec[p] + inSpec[p + 1] * inSpec[p + 1];
                            diff += Math.pow(inSpec[p] - spec[p], 2) + Math.pow(inSpec[p + 1] - spec[p + 1], 2);
                        }
                    }
                }
                assertTrue(diff < 1e-12 * bandIn, "band changed: " + diff / bandIn);
            }
        }
    }

    @Test
    void keptFrequencyCountAndCentring() {
        MriKspace half = new MriKspace(2);
        // n = 8, m = 4: k = -2..1, FFT indices 0, 1, 6, 7
        boolean[] expected = {true, true, false, false, false, false, true, true};
        for (int i = 0; i < 8; i++) {
            assertEquals(expected[i], half.isKept(i, 8), "index " + i);
        }
        // n = 7, m = 3: k = -1..1
        boolean[] odd = {true, true, false, false, false, false, true};
        for (int i = 0; i < 7; i++) {
            assertEquals(odd[i], half.isKept(i, 7), "index " + i);
        }
        assertEquals(64, new MriKspace(4).keptFrequencies(256));
        assertEquals(1, new MriKspace(4).keptFrequencies(3));
    }

    @Test
    void scaleOneIsIdentity() {
        float[] img = slice(33, 20, 2);
        assertArrayEquals(img, new MriKspace(1).apply(img, 33, 20, 5));
        // the transform path itself is lossless at scale 1
        double[] c = new MriKspace(1).complexImage(img, 33, 20, 5);
        for (int k = 0; k < img.length; k++) {
            assertEquals(img[k], c[2 * k], 1e-9 * 2000);
            assertEquals(0, c[2 * k + 1], 1e-9 * 2000);
        }
    }

    @Test
    void oddSizesPreservedAndImageBlurred() {
        int h = 45;
        int w = 31;
        float[] img = slice(h, w, 3);
        float[] copy = img.clone();
        float[] out = new MriKspace(4).apply(img, h, w, 0);
        assertEquals(h * w, out.length);
        assertArrayEquals(copy, img);
        double err = 0;
        for (int k = 0; k < img.length; k++) {
            assertTrue(out[k] >= 0);
            err += Math.abs(out[k] - img[k]);
        }
        assertTrue(err / img.length > 10, "mean abs change " + err / img.length);
        // DC is kept: the mean of the complex image equals the input mean, so the magnitude mean is close
        double meanIn = 0;
        double meanOut = 0;
        for (int k = 0; k < img.length; k++) {
            meanIn += img[k];
            meanOut += out[k];
        }
        assertEquals(meanIn / img.length, meanOut / img.length, 0.05 * meanIn / img.length);
    }

    @Test
    void noiseIsRayleighOnEmptySliceAndSeeded() {
        int n = 128;
        float[] zero = new float[n * n];
        double sigma = 10;
        MriKspace mri = new MriKspace(2, sigma);
        float[] a = mri.apply(zero, n, n, 9);
        assertArrayEquals(a, mri.apply(zero, n, n, 9));
        assertFalse(Arrays.equals(a, mri.apply(zero, n, n, 10)));
        double mean = 0;
        for (float v : a) {
            mean += v;
        }
        mean /= a.length;
        // per-part std after keeping 1/4 of k-space: sigma / 2; Rayleigh mean = that * sqrt(pi / 2)
        double expected = sigma * 0.5 * Math.sqrt(Math.PI / 2);
        assertEquals(expected, mean, 0.03 * expected);
    }

    @Test
    void rejectsBadParametersAndInput() {
        assertThrows(IllegalArgumentException.class, () -> new MriKspace(0.5));
        assertThrows(IllegalArgumentException.class, () -> new MriKspace(Double.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> new MriKspace(2, -1));
        float[] bad = new float[12];
        bad[3] = Float.POSITIVE_INFINITY;
        assertThrows(IllegalArgumentException.class, () -> new MriKspace(2).apply(bad, 3, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> new MriKspace(2).apply(new float[12], 5, 4, 0));
    }
}
