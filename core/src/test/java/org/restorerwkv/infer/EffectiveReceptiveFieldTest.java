package org.restorerwkv.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.restorerwkv.infer.EffectiveReceptiveField.GradientMap;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;
import org.restorerwkv.model.WkvKernel;

class EffectiveReceptiveFieldTest {

    static final ModelConfig TINY = new ModelConfig(1, 1, 8, new int[] {1, 1, 1, 1}, 1, 2, 4);

    static NDManager manager;
    static RestoreRwkv model;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        model = RestoreRwkv.create(TINY, manager, 7);
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static List<HostTensor> images(int n, int h, int w, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<HostTensor> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] d = new float[h * w];
            for (int j = 0; j < d.length; j++) {
                d[j] = (float) r.nextDouble();
            }
            out.add(new HostTensor(new long[] {h, w}, d));
        }
        return out;
    }

    @Test
    void mapAtInitIsFiniteNonNegativeAndPeaksAtTheCentre() {
        GradientMap m = EffectiveReceptiveField.compute(model, manager, images(2, 32, 32, 1));
        assertEquals(32, m.height());
        assertEquals(32, m.width());
        assertEquals(32 * 32, m.values().length);
        assertEquals(2, m.images());
        int argmax = 0;
        double total = 0;
        for (int i = 0; i < m.values().length; i++) {
            float v = m.values()[i];
            assertTrue(Float.isFinite(v) && v >= 0, "value " + v + " at " + i);
            total += v;
            if (v > m.values()[argmax]) {
                argmax = i;
            }
        }
        assertTrue(total > 0, "gradient everywhere zero");
        int dy = argmax / 32 - m.centreRow();
        int dx = argmax % 32 - m.centreColumn();
        assertTrue(dy * dy + dx * dx <= 2, "maximum at (" + argmax / 32 + ", " + argmax % 32 + ")");
        // the gradient reaches beyond the centre pixel: a receptive field, not just the residual
        assertTrue(m.radiusContaining(0.9) >= 1, "r90 = " + m.radiusContaining(0.9));
        float[] d = m.display();
        float lo = Float.MAX_VALUE;
        float hi = -Float.MAX_VALUE;
        for (float v : d) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        assertEquals(0f, lo);
        assertEquals(1f, hi);
        assertEquals(1f, d[argmax]);
    }

    @Test
    void gradientsDoNotAccumulateAcrossImagesOrCalls() {
        List<HostTensor> imgs = images(2, 16, 16, 2);
        GradientMap both = EffectiveReceptiveField.compute(model, manager, imgs);
        GradientMap first = EffectiveReceptiveField.compute(model, manager, imgs.subList(0, 1));
        GradientMap second = EffectiveReceptiveField.compute(model, manager, imgs.subList(1, 2));
        for (int i = 0; i < both.values().length; i++) {
            assertEquals((first.values()[i] + second.values()[i]) / 2, both.values()[i], 1e-6);
        }
    }

    @Test
    void gradientMatchesFiniteDifferencesOfTheFusedModel() {
        HostTensor img = images(1, 16, 16, 3).get(0);
        GradientMap m = EffectiveReceptiveField.compute(model, manager, List.of(img));
        Restorer restorer = new Restorer(model, manager, 1);
        int centre = 8 * 16 + 8;
        float eps = 1e-2f;
        for (int p : new int[] {centre, centre + 1, centre - 16, 5 * 16 + 11, 0}) {
            float[] plus = img.data().clone();
            float[] minus = img.data().clone();
            plus[p] += eps;
            minus[p] -= eps;
            double yp = Math.max(0, restorer.restoreBatch(plus, 1, 16, 16)[centre]);
            double ym = Math.max(0, restorer.restoreBatch(minus, 1, 16, 16)[centre]);
            double fd = Math.max(0, (yp - ym) / (2 * eps));
            assertEquals(fd, m.values()[p], 2e-3 + 0.02 * Math.abs(fd), "pixel " + p);
        }
    }

    @Test
    void modelStateIsRestored() {
        model.setWkvKernel(WkvKernel.FUSED);
        List<Boolean> before = new ArrayList<>();
        for (Parameter p : model.namedParameters().values()) {
            before.add(p.requiresGradient());
        }
        EffectiveReceptiveField.compute(model, manager, images(1, 8, 8, 4));
        assertEquals(WkvKernel.FUSED, model.wkvKernel());
        List<Boolean> after = new ArrayList<>();
        for (Parameter p : model.namedParameters().values()) {
            after.add(p.requiresGradient());
        }
        assertEquals(before, after);
        assertTrue(before.contains(true) && before.contains(false), "trainable and frozen parameters both present");
        model.setWkvKernel(WkvKernel.AUTO);
    }

    @Test
    void sizesNotAMultipleOf8AreCentreCropped() {
        List<HostTensor> big = images(1, 20, 19, 5);
        List<HostTensor> cropped = new ArrayList<>();
        for (HostTensor t : big) {
            float[] c = new float[16 * 16];
            for (int y = 0; y < 16; y++) {
                System.arraycopy(t.data(), (2 + y) * 19 + 1, c, y * 16, 16);
            }
            cropped.add(new HostTensor(new long[] {16, 16}, c));
        }
        GradientMap a = EffectiveReceptiveField.compute(model, manager, big);
        GradientMap b = EffectiveReceptiveField.compute(model, manager, cropped);
        assertEquals(16, a.height());
        assertEquals(16, a.width());
        assertArrayEquals(b.values(), a.values(), 0f);
    }

    @Test
    void badInputsAreRejected() {
        List<HostTensor> mixed = new ArrayList<>(images(1, 32, 32, 6));
        mixed.addAll(images(1, 16, 16, 6));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EffectiveReceptiveField.compute(model, manager, mixed));
        assertTrue(e.getMessage().contains("one size"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EffectiveReceptiveField.compute(model, manager, List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> EffectiveReceptiveField.compute(model, manager, images(1, 7, 32, 6)));
        assertThrows(IllegalArgumentException.class,
                () -> EffectiveReceptiveField.compute(model, manager, List.of(new HostTensor(new long[] {2, 8, 8}, new float[128]))));
        float[] nan = new float[64];
        nan[5] = Float.NaN;
        assertThrows(IllegalArgumentException.class,
                () -> EffectiveReceptiveField.compute(model, manager, List.of(new HostTensor(new long[] {8, 8}, nan))));
    }

    @Test
    void radiusCountsWholeRingsAroundTheCentre() {
        float[] v = new float[8 * 8];
        v[4 * 8 + 4] = 2; // centre
        v[4 * 8 + 5] = 1; // distance 1
        v[4 * 8 + 1] = 1; // distance 3
        GradientMap m = new GradientMap(8, 8, v, 1);
        assertEquals(0.0, m.radiusContaining(0.5));
        assertEquals(1.0, m.radiusContaining(0.75));
        assertEquals(3.0, m.radiusContaining(0.9));
        assertTrue(Double.isNaN(new GradientMap(8, 8, new float[64], 1).radiusContaining(0.5)));
    }
}
