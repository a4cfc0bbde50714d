package org.restorerwkv.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.restorerwkv.io.HostTensor;

class AdamTest {

    private static Parameter param(NDManager m, float[] values) {
        Parameter p = Parameter.builder().setName("w").setType(Parameter.Type.OTHER).build();
        NDArray a = m.create(values);
        a.setRequiresGradient(true);
        p.setArray(a);
        return p;
    }

    /** loss = sum(c * w^2): gradient 2 c w. */
    private static void backward(Parameter p, float[] c) {
        NDArray w = p.getArray();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(w.square().mul(w.getManager().create(c)).sum());
        }
    }

    @Test
    void matchesTorchAdamFormulaAndZeroesGradients() {
        float[] w0 = {0.5f, -1.5f, 2f};
        float[] c = {1f, 3f, -0.5f};
        double lr = 0.01;
        double b1 = 0.9;
        double b2 = 0.999;
        double eps = 1e-8;
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter p = param(m, w0);
            Map<String, Parameter> ps = new LinkedHashMap<>();
            ps.put("w", p);
            Adam adam = new Adam(ps, b1, b2, eps);
            double[] w = {w0[0], w0[1], w0[2]};
            double[] mm = new double[3];
            double[] vv = new double[3];
            for (int t = 1; t <= 3; t++) {
                backward(p, c);
                adam.step(lr);
                for (int i = 0; i < 3; i++) {
                    double g = 2 * c[i] * w[i];
                    mm[i] = b1 * mm[i] + (1 - b1) * g;
                    vv[i] = b2 * vv[i] + (1 - b2) * g * g;
                    double denom = Math.sqrt(vv[i]) / Math.sqrt(1 - Math.pow(b2, t)) + eps;
                    w[i] -= lr / (1 - Math.pow(b1, t)) * mm[i] / denom;
                }
                float[] got = p.getArray().toFloatArray();
                for (int i = 0; i < 3; i++) {
                    assertEquals(w[i], got[i], 1e-5, "step " + t + " element " + i);
                }
                assertArrayEquals(new float[3], p.getArray().getGradient().toFloatArray(), 0f, "gradients zeroed");
            }
            assertEquals(3, adam.stepCount());
        }
    }

    @Test
    void nonFiniteGradientsAreDetectedAndZeroedWithoutAnUpdate() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter p = param(m, new float[] {1f, 2f, 3f});
            Map<String, Parameter> ps = new LinkedHashMap<>();
            ps.put("w", p);
            Adam adam = new Adam(ps, 0.9, 0.999, 1e-8);
            backward(p, new float[] {1f, 1f, 1f});
            assertTrue(adam.gradientsFinite());
            adam.zeroGradients();
            // sqrt(w - 2) at w = 1 is NaN, its gradient too; 1/(w - 3) at w = 3 is inf
            NDArray w = p.getArray();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(w.sub(2f).sqrt().sum().add(w.sub(3f).pow(-1).sum()));
            }
            assertFalse(adam.gradientsFinite());
            adam.zeroGradients();
            assertArrayEquals(new float[3], p.getArray().getGradient().toFloatArray(), 0f, "NaN and inf zeroed");
            assertTrue(adam.gradientsFinite());
            assertArrayEquals(new float[] {1f, 2f, 3f}, p.getArray().toFloatArray(), 0f, "no update");
            assertEquals(0, adam.stepCount());
        }
    }

    @Test
    void stateRoundTripsAndContinuesIdentically() {
        float[] c = {1f, -2f};
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter p = param(m, new float[] {1f, 2f});
            Adam a = new Adam(Map.of("w", p), 0.9, 0.999, 1e-8);
            backward(p, c);
            a.step(0.1);
            LinkedHashMap<String, HostTensor> state = a.state();
            float[] after1 = p.getArray().toFloatArray();

            Parameter q = param(m, after1);
            Adam b = new Adam(Map.of("w", q), 0.9, 0.999, 1e-8);
            b.load(state, a.stepCount());
            backward(p, c);
            a.step(0.1);
            backward(q, c);
            b.step(0.1);
            assertArrayEquals(p.getArray().toFloatArray(), q.getArray().toFloatArray(), 0f);

            Map<String, HostTensor> broken = new LinkedHashMap<>(state);
            broken.put("exp_avg.w", new HostTensor(new long[] {3}, new float[3]));
            assertThrows(IllegalArgumentException.class, () -> b.load(broken, 1));
        }
    }

    @Test
    void cosineScheduleRunsFromLrToMin() {
        CosineSchedule s = new CosineSchedule(2e-4, 1e-6, 300_000);
        assertEquals(2e-4, s.at(0), 1e-18);
        assertEquals((2e-4 + 1e-6) / 2, s.at(150_000), 1e-15);
        assertEquals(1e-6, s.at(300_000), 1e-18);
    }
}
