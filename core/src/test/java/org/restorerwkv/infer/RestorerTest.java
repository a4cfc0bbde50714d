package org.restorerwkv.infer;

import org.restorerwkv.domain.Padding;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import static org.restorerwkv.TestResources.random;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;

class RestorerTest {

    static final ModelConfig TINY = new ModelConfig(1, 1, 8, new int[] {1, 1, 1, 1}, 1, 2, 4);

    @Test
    void reflectFoldsBackAndForthForAnyPad() {
        // n = 3: 0 1 2 1 0 1 2 ...
        int[] expect = {0, 1, 2, 1, 0, 1, 2, 1};
        for (int i = 0; i < expect.length; i++) {
            assertEquals(expect[i], Padding.reflect(i, 3));
        }
        assertEquals(0, Padding.reflect(5, 1));
    }

    @Test
    void padThenCropIsIdentity() {
        float[] a = random(2 * 5 * 7, 1);
        float[] p = Padding.pad(a, 2, 5, 7, 8, 8);
        assertEquals(2 * 64, p.length);
        assertEquals(a[5], p[5]); // row 0 kept
        assertEquals(a[5], p[7]); // x=7 reflects to x=5
        assertArrayEquals(a, Padding.crop(p, 2, 8, 8, 5, 7));
    }

    @Test
    void oddSizesComeBackAtTheirSizeAndBatchingDoesNotChangeResults() {
        try (NDManager m = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(TINY, m, 3);
            HostTensor x = new HostTensor(new long[] {3, 37, 53}, random(3 * 37 * 53, 2));
            HostTensor one = new Restorer(model, m, 1).restore(x);
            HostTensor three = new Restorer(model, m, 3).restore(x);
            assertArrayEquals(new long[] {3, 37, 53}, one.shape());
            double d = 0;
            for (int i = 0; i < one.data().length; i++) {
                d = Math.max(d, Math.abs(one.data()[i] - three.data()[i]));
            }
            assertTrue(d < 1e-5, "batch of 1 vs 3 differ by " + d);
            HostTensor single = new Restorer(model, m, 2).restore(new HostTensor(new long[] {37, 53},
                    java.util.Arrays.copyOf(x.data(), 37 * 53)));
            assertArrayEquals(new long[] {37, 53}, single.shape());
        }
    }

    @Test
    void mriPercentileScalingMakesRestorationScaleEquivariant() {
        // an MRI scan and the same scan 3x brighter (another scanner's units): under mri-p99.5 the
        // network sees the same normalized input, so the restorations differ by exactly that gain
        try (NDManager m = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(TINY, m, 3);
            float[] x = random(2 * 24 * 32, 7);
            float[] bright = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                x[i] *= 300;
                bright[i] = 3 * x[i];
            }
            long[] shape = {2, 24, 32};
            ScanRestorer scaled = new ScanRestorer(new Restorer(model, m, 2), IntensityScaling.MRI_PERCENTILE);
            float[] a = scaled.restore(new HostTensor(shape, x), Modality.MRI, RestoreListener.NONE).data();
            float[] b = scaled.restore(new HostTensor(shape, bright), Modality.MRI, RestoreListener.NONE).data();
            ScanRestorer fixed = new ScanRestorer(new Restorer(model, m, 2), IntensityScaling.FIXED);
            float[] c = fixed.restore(new HostTensor(shape, x), Modality.MRI, RestoreListener.NONE).data();
            float[] d = fixed.restore(new HostTensor(shape, bright), Modality.MRI, RestoreListener.NONE).data();
            double scaledErr = 0;
            double fixedErr = 0;
            for (int i = 0; i < a.length; i++) {
                scaledErr = Math.max(scaledErr, Math.abs(3 * a[i] - b[i]));
                fixedErr = Math.max(fixedErr, Math.abs(3 * c[i] - d[i]));
            }
            assertTrue(scaledErr < 1e-2, "mri-p99.5: 3 f(x) vs f(3x) differ by " + scaledErr);
            assertTrue(fixedErr > 1, "fixed range: the network's residual does not scale with the input (" + fixedErr + ")");
        }
    }

    @Test
    void whereOneTileCoversAPixelTheResultIsThatTilesRestoration() {
        assertArrayEquals(new int[] {0, 24, 36}, Restorer.starts(68, 32, 8));
        assertArrayEquals(new int[] {0, 24, 43}, Restorer.starts(75, 32, 8));
        assertArrayEquals(new int[] {0}, Restorer.starts(20, 32, 8));
        try (NDManager m = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(TINY, m, 3);
            float[] img = random(68 * 75, 5);
            HostTensor tiled = new Restorer(model, m, 1, 32, 8).restore(new HostTensor(new long[] {1, 68, 75}, img));
            assertArrayEquals(new long[] {1, 68, 75}, tiled.shape());
            // the top-left 24x24 pixels lie only in the tile at (0, 0); rows and columns from 56 only in (36, 43)
            for (int[] t : new int[][] {{0, 0, 0, 0, 24, 24}, {36, 43, 56, 56, 68, 75}}) {
                float[] sub = new float[32 * 32];
                for (int y = 0; y < 32; y++) {
                    System.arraycopy(img, (t[0] + y) * 75 + t[1], sub, y * 32, 32);
                }
                float[] alone = new Restorer(model, m, 1, 0, 0).restore(new HostTensor(new long[] {32, 32}, sub)).data();
                for (int y = t[2]; y < t[4]; y++) {
                    for (int x = t[3]; x < t[5]; x++) {
                        assertEquals(alone[(y - t[0]) * 32 + x - t[1]], tiled.data()[y * 75 + x], 1e-5, "pixel " + y + "," + x);
                    }
                }
            }
        }
    }

    @Test
    void aConstantModelResultIsReproducedExactlyByTiling() {
        // blending weights sum to one: restoring a ramp with tiles of a model that returns its input
        // (all weights zero -> output = input via the global residual) is exact
        try (NDManager m = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(TINY, m, 3);
            java.util.LinkedHashMap<String, HostTensor> zero = model.stateDict();
            zero.replaceAll((k, t) -> new HostTensor(t.shape(), new float[t.data().length]));
            model.load(zero);
            HostTensor x = new HostTensor(new long[] {2, 50, 41}, random(2 * 50 * 41, 6));
            HostTensor tiled = new Restorer(model, m, 2, 16, 8).restore(x);
            for (int i = 0; i < x.data().length; i++) {
                assertEquals(x.data()[i], tiled.data()[i], 1e-6);
            }
        }
    }

    @Test
    void nonFiniteInputIsRefused() {
        try (NDManager m = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(TINY, m, 3);
            float[] d = new float[16 * 16];
            d[17] = Float.NaN;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Restorer(model, m, 1).restore(new HostTensor(new long[] {16, 16}, d)));
            assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
        }
    }

}
