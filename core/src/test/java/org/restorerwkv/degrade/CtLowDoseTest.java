package org.restorerwkv.degrade;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CtLowDoseTest {

    /** PSNR over the inscribed circle (the field of view), data range of the truth there. */
    static double psnrInFov(float[] truth, float[] test, int n) {
        double se = 0;
        double max = Double.NEGATIVE_INFINITY;
        double min = Double.POSITIVE_INFINITY;
        int count = 0;
        double r = 0.5 * n;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double x = j - 0.5 * (n - 1);
                double y = i - 0.5 * (n - 1);
                if (x * x + y * y > r * r) {
                    continue;
                }
                double t = truth[i * n + j];
                double d = test[i * n + j] - t;
                se += d * d;
                max = Math.max(max, t);
                min = Math.min(min, t);
                count++;
            }
        }
        return 10 * Math.log10((max - min) * (max - min) / (se / count));
    }

    /** Mean and std over a centred disc of radius rPixels. */
    static double[] statsInDisc(float[] img, int n, double rPixels) {
        double s = 0;
        double s2 = 0;
        int c = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double x = j - 0.5 * (n - 1);
                double y = i - 0.5 * (n - 1);
                if (x * x + y * y <= rPixels * rPixels) {
                    s += img[i * n + j];
                    s2 += (double) img[i * n + j] * img[i * n + j];
                    c++;
                }
            }
        }
        double m = s / c;
        return new double[] {m, Math.sqrt(s2 / c - m * m)};
    }

    // The exactness tests sample the detector at a quarter pixel and open the filter to the
    // detector's Nyquist frequency (4 x the image's): with the default half-pixel sampling and a
    // filter ending at the image Nyquist frequency, the phantom's 2000 HU bone edges are blurred
    // by a pixel, which costs ~6 dB though flat regions stay within a few HU.

    @Test
    void parallelBeamFbpReproducesSheppLogan() {
        int n = 256;
        float[] phantom = Phantoms.sheppLogan(n, 4);
        CtLowDose ct = CtLowDose.builder().dose(1).views(384).detectorPitchMm(0.7 / 4).filterCutoff(4)
                .mode(CtLowDose.Mode.RECONSTRUCT).build();
        double psnr = psnrInFov(phantom, ct.reconstructNoiseless(phantom, n, n), n);
        assertTrue(psnr >= 40, "PSNR " + psnr + " dB");
    }

    @Test
    void fanBeamWeightedFbpReproducesSheppLogan() {
        int n = 256;
        float[] phantom = Phantoms.sheppLogan(n, 4);
        BeamGeometry.Fan fan = BeamGeometry.Fan.siemensDefinition();
        // quarter pixel at the isocentre, i.e. magnified on the detector
        double pitch = 0.7 / 4 * fan.sourceToDetectorMm() / fan.sourceToIsoMm();
        CtLowDose ct = CtLowDose.builder().dose(1).geometry(fan).views(768).detectorPitchMm(pitch)
                .filterCutoff(4).mode(CtLowDose.Mode.RECONSTRUCT).build();
        double psnr = psnrInFov(phantom, ct.reconstructNoiseless(phantom, n, n), n);
        assertTrue(psnr >= 40, "PSNR " + psnr + " dB");
    }

    @Test
    void defaultSystemKeepsFlatRegionsAndWaterAtZero() {
        int n = 128;
        float[] water = Phantoms.disc(n, 0.7, 0f, -1000f);
        float[] rec = CtLowDose.ofDose(1).reconstructNoiseless(water, n, n);
        double[] s = statsInDisc(rec, n, 0.5 * 0.7 * n - 6);
        assertEquals(0, s[0], 2.0, "mean HU of water");
        assertTrue(s[1] < 5, "ripple " + s[1] + " HU");
    }

    @Test
    void noiseStdDoublesAtQuarterDose() {
        int n = 128;
        float[] water = Phantoms.disc(n, 0.8, 0f, -1000f);
        double r = 0.5 * 0.8 * n - 8;
        for (CtLowDose.Mode mode : new CtLowDose.Mode[] {CtLowDose.Mode.NOISELESS_INPUT, CtLowDose.Mode.RECONSTRUCT}) {
            double full = statsInDisc(CtLowDose.builder().dose(1).views(360).mode(mode).build()
                    .apply(water, n, n, 11), n, r)[1];
            double quarter = statsInDisc(CtLowDose.builder().dose(0.25).views(360).mode(mode).build()
                    .apply(water, n, n, 12), n, r)[1];
            assertTrue(full > 1, mode + ": full-dose noise " + full + " HU");
            assertEquals(2.0, quarter / full, 0.3, mode + ": std ratio " + quarter / full);
        }
    }

    @Test
    void insertedNoiseMakesUpTheMissingVariance() {
        int n = 128;
        float[] water = Phantoms.disc(n, 0.8, 0f, -1000f);
        double r = 0.5 * 0.8 * n - 8;
        CtLowDose.Builder b = CtLowDose.builder().views(360);
        assertArrayEquals(water, b.dose(1).build().apply(water, n, n, 1));
        // added variance is (1/d - 1) of the full-dose variance: sqrt(3) at 1/4, 1 at 1/2
        double quarter = statsInDisc(b.dose(0.25).build().apply(water, n, n, 2), n, r)[1];
        double half = statsInDisc(b.dose(0.5).build().apply(water, n, n, 3), n, r)[1];
        double full = statsInDisc(b.dose(1).mode(CtLowDose.Mode.NOISELESS_INPUT).build()
                .apply(water, n, n, 4), n, r)[1];
        assertEquals(Math.sqrt(3), quarter / half, 0.15 * Math.sqrt(3), "quarter/half " + quarter / half);
        assertEquals(1.0, half / full, 0.15, "half/full " + half / full);
    }

    @Test
    void electronicNoiseAddsNoise() {
        int n = 64;
        float[] water = Phantoms.disc(n, 0.8, 0f, -1000f);
        CtLowDose.Builder b = CtLowDose.builder().dose(0.25).views(180).photonsPerRay(1e4)
                .mode(CtLowDose.Mode.NOISELESS_INPUT);
        double without = statsInDisc(b.build().apply(water, n, n, 5), n, 20)[1];
        double with = statsInDisc(b.electronicNoise(30).build().apply(water, n, n, 5), n, 20)[1];
        assertTrue(with > 1.05 * without, with + " vs " + without);
    }

    @Test
    void deterministicPerSeedAndInputUntouched() {
        int n = 48;
        float[] phantom = Phantoms.sheppLogan(n);
        float[] copy = phantom.clone();
        CtLowDose ct = CtLowDose.builder().dose(0.25).views(90).build();
        float[] a = ct.apply(phantom, n, n, 7);
        float[] b = ct.apply(phantom, n, n, 7);
        float[] c = ct.apply(phantom, n, n, 8);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
        assertArrayEquals(copy, phantom);
        assertEquals(n * n, a.length);
    }

    @Test
    void nonSquareSlices() {
        float[] slice = new float[40 * 70];
        Arrays.fill(slice, -1000f);
        for (int i = 10; i < 30; i++) {
            for (int j = 15; j < 55; j++) {
                slice[i * 70 + j] = 0f;
            }
        }
        CtLowDose ct = CtLowDose.builder().dose(1).views(400).detectorPitchMm(0.7 / 4).filterCutoff(4)
                .mode(CtLowDose.Mode.RECONSTRUCT).build();
        float[] rec = ct.reconstructNoiseless(slice, 40, 70);
        assertEquals(0, rec[20 * 70 + 35], 10, "centre of the water block");
        assertEquals(-1000, rec[2 * 70 + 3], 10, "air corner");
    }

    @Test
    void rejectsBadInput() {
        CtLowDose ct = CtLowDose.ofDose(0.5);
        float[] nan = new float[16];
        nan[5] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> ct.apply(nan, 4, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> ct.apply(new float[15], 4, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> ct.apply(new float[0], 0, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> CtLowDose.ofDose(0));
        assertThrows(IllegalArgumentException.class, () -> CtLowDose.ofDose(1.5));
        assertThrows(IllegalArgumentException.class, () -> CtLowDose.ofDose(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> CtLowDose.builder().dose(0.5).views(0).build());
        assertThrows(IllegalArgumentException.class, () -> new BeamGeometry.Fan(500, 400));
        CtLowDose huge = CtLowDose.builder().dose(0.5).views(1_000_000).detectorPitchMm(1e-6).build();
        assertThrows(IllegalArgumentException.class, () -> huge.apply(new float[16], 4, 4, 0));
        // a slice wider than the source circle
        CtLowDose fan = CtLowDose.builder().dose(0.5).geometry(new BeamGeometry.Fan(20, 40)).build();
        assertThrows(IllegalArgumentException.class, () -> fan.apply(new float[64 * 64], 64, 64, 0));
    }

    @Test
    void adjointIsTheTransposeOfForward() {
        SplittableRandom rng = new SplittableRandom(3);
        for (BeamGeometry g : new BeamGeometry[] {new BeamGeometry.Parallel(), BeamGeometry.Fan.siemensDefinition()}) {
            Projector p = new Projector(21, 34, 0.8, g, 37, 0.5, 0);
            double[] x = rng.doubles(21 * 34).toArray();
            double[] y = rng.doubles((long) p.views() * p.bins()).toArray();
            double[] ax = p.forward(x);
            double[] aty = p.adjoint(y);
            double lhs = 0;
            double rhs = 0;
            for (int k = 0; k < y.length; k++) {
                lhs += ax[k] * y[k];
            }
            for (int k = 0; k < x.length; k++) {
                rhs += x[k] * aty[k];
            }
            assertEquals(lhs, rhs, 1e-10 * Math.abs(lhs), g.toString());
        }
    }

    @Test
    void lineIntegralOfWaterDiscMatchesChord() {
        // central ray through a water disc of radius R: mu_water * 2R
        int n = 200;
        double pixel = 0.5;
        float[] disc = Phantoms.disc(n, 0.5, 0f, -1000f);
        CtLowDose ct = CtLowDose.builder().dose(1).pixelMm(pixel).views(8).build();
        Projector p = ct.projector(n, n);
        double[] sino = p.forward(ct.attenuation(disc));
        double radiusMm = 0.5 * 0.5 * n * pixel;
        for (int v = 0; v < p.views(); v++) {
            // even bin count: the central ray lies between the two middle bins
            int b = p.bins() / 2;
            double mid = 0.5 * (sino[v * p.bins() + b - 1] + sino[v * p.bins() + b]);
            assertEquals(0.0192 * 2 * radiusMm, mid, 0.0192 * 2 * pixel, "view " + v);
        }
    }
}
