package org.restorerwkv.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;

/**
 * Guards training against a libtorch 2.5.1 CPU defect: on some AVX-512 processors (seen on AMD
 * EPYC) oneDNN's AVX-512 convolution backward returns wrong, run-to-run varying input gradients
 * when the batch holds more than one image. Limiting oneDNN to AVX2 ({@code DNNL_MAX_CPU_ISA=AVX2}
 * in the environment before the JVM starts, as the launcher and the test runner do) avoids it.
 */
public final class EngineCheck {

    private EngineCheck() {}

    /**
     * Compares a batch-of-3 convolution's input gradient with per-image gradients, a few times.
     *
     * @throws IllegalStateException when they differ, naming the fix
     */
    public static void requireCorrectBatchedConvGradients(NDManager parent) {
        try (NDManager m = parent.newSubManager()) {
            NDArray x = m.randomUniform(-1, 1, new Shape(3, 8, 12, 12));
            NDArray w = m.randomUniform(-1, 1, new Shape(8, 8, 3, 3));
            NDArray r = m.randomUniform(-1, 1, new Shape(3, 8, 12, 12));
            float[] single = new float[(int) x.size()];
            int per = single.length / 3;
            for (int b = 0; b < 3; b++) {
                float[] g = inputGradient(x.get(b).expandDims(0), w, r.get(b).expandDims(0));
                System.arraycopy(g, 0, single, b * per, per);
            }
            for (int rep = 0; rep < 3; rep++) {
                float[] batched = inputGradient(x, w, r);
                for (int i = 0; i < single.length; i++) {
                    if (!(Math.abs(batched[i] - single[i]) <= 1e-4 * (1 + Math.abs(single[i])))) {
                        throw new IllegalStateException("libtorch computes wrong convolution gradients for batches on this"
                                + " CPU (oneDNN AVX-512 defect); set DNNL_MAX_CPU_ISA=AVX2 in the environment before starting"
                                + " Java (the restore-rwkv launcher does)");
                    }
                }
            }
        }
    }

    private static float[] inputGradient(NDArray x, NDArray w, NDArray r) {
        NDArray xx = x.duplicate();
        xx.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray y = Conv2d.conv2d(xx, w, null, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1).singletonOrThrow();
            gc.backward(y.mul(r).sum());
        }
        return xx.getGradient().toFloatArray();
    }
}
