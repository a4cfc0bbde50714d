package org.restorerwkv.degrade;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The SynthSR-style generator: classes, determinism per seed, the ranges of each draw, shapes. */
class MriSynthTest {

    /** A 48 x 40 "head": background, a bright ring (skull/fat), grey tissue and two dark ventricles. */
    private static float[] phantom(int h, int w) {
        float[] x = new float[h * w];
        for (int j = 0; j < h; j++) {
            for (int i = 0; i < w; i++) {
                double r = Math.hypot((j - h / 2.0) / (h * 0.42), (i - w / 2.0) / (w * 0.42));
                double v = r > 1 ? 2 : r > 0.85 ? 240 : Math.abs(i - w / 2.0) < 3 && Math.abs(j - h / 2.0) < 8 ? 40
                        : (i + j) % 7 < 3 ? 110 : 160; // grey and white stripes
                x[j * w + i] = (float) v;
            }
        }
        return x;
    }

    @Test
    void classesAreFittedInIncreasingOrderWithinTheForeground() {
        float[] x = phantom(48, 40);
        MriSynth s = MriSynth.fit(x, 4);
        float[] c = s.centres();
        assertEquals(4, c.length);
        for (int k = 1; k < c.length; k++) {
            assertTrue(c[k] > c[k - 1], Arrays.toString(c));
        }
        assertTrue(c[0] >= 24 && c[c.length - 1] <= 240, Arrays.toString(c)); // above 10% of the 99.5th percentile
        assertThrows(IllegalArgumentException.class, () -> MriSynth.fit(x, 1));
        assertThrows(IllegalArgumentException.class, () -> MriSynth.fit(new float[100], 4)); // no contrast
        assertThrows(IllegalArgumentException.class, () -> MriSynth.fit(new float[] {0, 1, Float.NaN}, 2));
    }

    @Test
    void aSeedGivesOneImageAndAnotherSeedAnother() {
        int h = 48;
        int w = 40;
        float[] x = phantom(h, w);
        float[] before = x.clone();
        MriSynth s = MriSynth.fit(x, 4);
        float[] a = s.apply(x, h, w, 11);
        assertArrayEquals(a, MriSynth.fit(x, 4).apply(x, h, w, 11)); // another instance, same seed
        assertArrayEquals(before, x); // input untouched
        assertEquals(h * w, a.length);
        assertFalse(Arrays.equals(a, s.apply(x, h, w, 12)));
        for (float v : a) {
            assertTrue(Float.isFinite(v) && v >= 0, "magnitude image: " + v);
        }
        assertThrows(IllegalArgumentException.class, () -> s.apply(x, h, w + 1, 1));
    }

    @Test
    void everyDrawStaysInItsRangeAndCoversIt() {
        int n = 2000;
        double[][] seen = new double[12][];
        for (int t = 0; t < seen.length; t++) {
            seen[t] = new double[] {Double.MAX_VALUE, -Double.MAX_VALUE};
        }
        SplittableRandom rng = new SplittableRandom(5);
        for (int i = 0; i < n; i++) {
            MriSynth.Params p = MriSynth.Params.draw(6, rng);
            assertEquals(6, p.classValues().length);
            double[] v = {p.classValues()[0], p.classValues()[5],
                p.background(), Math.toDegrees(p.rotationRad()), p.scaleY(), p.shearX(), p.shiftY(), p.elasticPx(),
                p.biasStd(), p.blurPx(), Math.log(p.gamma()), p.noise()};
            for (int t = 0; t < v.length; t++) {
                seen[t][0] = Math.min(seen[t][0], v[t]);
                seen[t][1] = Math.max(seen[t][1], v[t]);
            }
        }
        double[][] range = {{0, 1}, {0, 1}, {0, MriSynth.MAX_BACKGROUND}, {-MriSynth.MAX_ROTATION_DEG, MriSynth.MAX_ROTATION_DEG},
            {1 - MriSynth.MAX_SCALE, 1 + MriSynth.MAX_SCALE}, {-MriSynth.MAX_SHEAR, MriSynth.MAX_SHEAR},
            {-MriSynth.MAX_SHIFT, MriSynth.MAX_SHIFT}, {0, MriSynth.MAX_ELASTIC_PX}, {0, MriSynth.MAX_BIAS},
            {0, MriSynth.MAX_BLUR_PX}, {-MriSynth.MAX_LOG_GAMMA, MriSynth.MAX_LOG_GAMMA}, {0, MriSynth.MAX_NOISE}};
        for (int t = 0; t < range.length; t++) {
            double lo = range[t][0];
            double hi = range[t][1];
            assertTrue(seen[t][0] >= lo - 1e-12 && seen[t][1] <= hi + 1e-12, t + ": " + Arrays.toString(seen[t]));
            // 2000 draws cover most of each range (not a constant, not a sliver)
            double cover = t == 10 ? 0.6 : 0.9;
            assertTrue(seen[t][1] - seen[t][0] >= cover * (hi - lo), t + ": " + Arrays.toString(seen[t]));
        }
    }

    @Test
    void contrastChangesAndTheBackgroundStaysDark() {
        int h = 48;
        int w = 40;
        float[] x = phantom(h, w);
        MriSynth s = MriSynth.fit(x, 4);
        double[] centre = new double[20];
        for (int seed = 0; seed < 20; seed++) {
            float[] y = s.apply(x, h, w, seed);
            float[] sorted = y.clone();
            Arrays.sort(sorted);
            double p995 = sorted[(int) Math.round(0.995 * (sorted.length - 1))];
            // background (its draw is at most 0.1) stays below the brightest tissue after gamma, noise and bias
            assertTrue(y[0] < 0.6 * p995, seed + ": corner " + y[0] + " vs " + p995);
            // the head's centre (striped tissue, whatever the deformation did) relative to the brightest
            double sum = 0;
            for (int j = h / 2 - 4; j < h / 2 + 4; j++) {
                for (int i = w / 2 - 8; i < w / 2 - 4; i++) {
                    sum += y[j * w + i];
                }
            }
            centre[seed] = sum / 32 / p995;
        }
        double mean = Arrays.stream(centre).average().orElseThrow();
        double sd = Math.sqrt(Arrays.stream(centre).map(c -> (c - mean) * (c - mean)).average().orElseThrow());
        assertTrue(sd > 0.1, "contrast of the centre varies across seeds: " + Arrays.toString(centre));
    }
}
