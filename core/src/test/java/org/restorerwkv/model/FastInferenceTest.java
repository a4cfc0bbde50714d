package org.restorerwkv.model;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.restorerwkv.model.ModelStructureTest.assertClose;
import static org.restorerwkv.TestResources.random;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.wkv.Parallel;

/**
 * The channels-last inference path (fused Omni-Shift, stacked k/v/r matmul, fused Bi-WKV, gate
 * and residual kernels) against the DJL-op path with the differentiable Bi-WKV.
 */
class FastInferenceTest {

    /** dim 6 (channels 6, 12, 24, 48: partial Bi-WKV channel blocks), 3 recurrences, hidden rate 2. */
    static final ModelConfig ODD = new ModelConfig(2, 2, 6, new int[] {1, 2, 1, 1}, 1, 3, 2);

    @ParameterizedTest
    // 7 channels: every linear layer on TokenLinear; 150 channels, hidden rate 4: k|v|r (150 x 450)
    // and the channel mix (150 x 600) wide enough for libtorch on row chunks; 16 and 48 channels: the
    // Bi-WKV's float lanes, its 3 recurrences alternating between two output buffers
    @CsvSource({"7,3,40,23", "150,4,12,9", "16,2,40,23", "48,4,24,20"})
    void stageOfOddChannelCountEqualsDjlPath(int dim, int hiddenRate, int h, int w) {
        try (NDManager nd = NDManager.newBaseManager()) {
            ai.djl.engine.Engine.getInstance().setRandomSeed(4);
            Stage stage = new Stage(2, dim, 3, hiddenRate);
            stage.initialize(nd, ai.djl.ndarray.types.DataType.FLOAT32, Layers.image(dim));
            // the differentiable form initialized spatial_decay ~ N(0,1); widen it as trained models do
            for (RwkvBlock b : stage.blocks()) {
                for (ai.djl.util.Pair<String, ai.djl.nn.Parameter> p : b.att().getDirectParameters()) {
                    p.getValue().getArray().muli(8);
                }
            }
            NDArray x = nd.create(random(3 * dim * h * w, 8), new Shape(3, dim, h, w)).mul(6).sub(3);
            ai.djl.training.ParameterStore ps = new ai.djl.training.ParameterStore(nd, false);
            float[][] out = new float[3][];
            int i = 0;
            for (WkvKernel k : new WkvKernel[] {WkvKernel.DIFFERENTIABLE, WkvKernel.AUTO, WkvKernel.AUTO}) {
                for (RwkvBlock b : stage.blocks()) {
                    b.att().setKernel(k);
                }
                // the last run with every linear layer in libtorch, on row chunks as small as they go (64
                // tokens): at 40 x 23, 2760 = 43 full chunks and a partial one
                KernelLimits.apply(stage, i == 2 ? KernelLimits.DEFAULT.withChunkFloats(1).withJavaLinearMax(0)
                        : KernelLimits.DEFAULT);
                out[i++] = stage.forward(ps, x, false).toFloatArray();
            }
            assertClose(out[0], out[1], 1e-5);
            assertClose(out[0], out[2], 1e-5);
        }
    }

    private static float[] run(RestoreRwkv m, NDArray x, WkvKernel kernel) {
        m.setWkvKernel(kernel);
        return m.forward(x, false).toFloatArray();
    }

    @Test
    void fastPathEqualsDjlPathOnOddChannelsNonSquareBatches() {
        int threads = Parallel.threads();
        try (NDManager nd = NDManager.newBaseManager()) {
            RestoreRwkv m = RestoreRwkv.create(ODD, nd, 3);
            for (int[] hw : new int[][] {{16, 40}, {24, 8}}) {
                NDArray x = nd.create(random(2 * 2 * hw[0] * hw[1], hw[0]), new Shape(2, 2, hw[0], hw[1])).mul(4).sub(2);
                float[] reference = run(m, x, WkvKernel.DIFFERENTIABLE);
                assertClose(reference, run(m, x, WkvKernel.AUTO), 1e-5);
                Parallel.setThreads(1);
                try {
                    assertClose(reference, run(m, x, WkvKernel.AUTO), 1e-5);
                } finally {
                    Parallel.setThreads(threads);
                }
            }
        }
    }

    @Test
    void fastPathFollowsEveryLoadedWeightAndKeepsNoStateBetweenCalls() {
        try (NDManager nd = NDManager.newBaseManager()) {
            RestoreRwkv m = RestoreRwkv.create(ODD, nd, 9);
            NDArray x = nd.create(random(2 * 32 * 24, 5), new Shape(1, 2, 32, 24));
            NDArray other = nd.create(random(2 * 16 * 64, 6), new Shape(1, 2, 16, 64));
            float[] before = run(m, x, WkvKernel.AUTO);
            run(m, other, WkvKernel.AUTO); // reuses (and resizes) the scratch buffers
            // equal up to float rounding: the vector API's exp runs in Java until the JIT compiles it
            // to the CPU's vector exp, which may differ in the last bit; leftover state would differ by far more
            assertClose(before, run(m, x, WkvKernel.AUTO), 1e-6);

            // every parameter changed: the fast path's fused Omni-Shift weights and its host copies of
            // the linear, layer-norm, gamma and decay weights must all follow the load
            LinkedHashMap<String, HostTensor> sd = m.stateDict();
            for (HostTensor t : sd.values()) {
                float[] d = t.data();
                for (int i = 0; i < d.length; i++) {
                    d[i] += 0.02f * (i % 7 - 3);
                }
            }
            float[] w3 = sd.get("encoder_level1.0.ffn.omni_shift.conv3x3.weight").data();
            for (int i = 0; i < w3.length; i++) {
                w3[i] += 0.5f;
            }
            m.load(sd);
            float[] after = run(m, x, WkvKernel.AUTO);
            double change = 0;
            for (int i = 0; i < after.length; i++) {
                change = Math.max(change, Math.abs(after[i] - before[i]));
            }
            assertTrue(change > 1e-3, "a changed Omni-Shift branch did not change the output: " + change);
            assertClose(run(m, x, WkvKernel.DIFFERENTIABLE), after, 1e-5);
        }
    }

    @Test
    void wholeModelOnHostTokensEqualsDjlPathWithConvolutionsInJavaOrLibtorchAndInBands() {
        ModelConfig single = new ModelConfig(1, 1, 8, new int[] {1, 1, 1, 1}, 1, 2, 2);
        try (NDManager nd = NDManager.newBaseManager()) {
            RestoreRwkv m = RestoreRwkv.create(single, nd, 4);
            NDArray x = nd.create(random(2 * 16 * 24, 12), new Shape(2, 1, 16, 24));
            float[] reference = run(m, x, WkvKernel.DIFFERENTIABLE);
            // every convolution's product by libtorch / by TokenLinear, im2col in bands of 1 to 4 tokens
            for (long limit : new long[] {0, Long.MAX_VALUE}) {
                KernelLimits.apply(m, KernelLimits.DEFAULT.withJavaProductMax(limit).withTokenBandFloats(300));
                assertClose(reference, run(m, x, WkvKernel.AUTO), 1e-5);
                KernelLimits.apply(m, KernelLimits.DEFAULT.withJavaProductMax(limit));
                assertClose(reference, run(m, x, WkvKernel.AUTO), 1e-5);
            }
        }
    }

    @Test
    void tokenPixelShufflesMatchTheDjlOnesOnPlanes() {
        int b = 2, c = 3, h = 4, w = 6;
        try (NDManager nd = NDManager.newBaseManager()) {
            float[] planes = random(b * 4 * c * h * w, 21);
            NDArray x = nd.create(planes, new Shape(b, 4 * c, h, w)); // packed: (B, 4c, h, w)
            float[] packed = new float[planes.length];
            org.restorerwkv.wkv.TokenOps.toTokens(planes, packed, b, h * w, 4 * c);
            float[] full = new float[planes.length];
            org.restorerwkv.wkv.TokenOps.pixelShuffle(packed, full, b, h, w, c);
            float[] expected = new float[planes.length];
            org.restorerwkv.wkv.TokenOps.toTokens(Resample.pixelShuffle(x).toFloatArray(), expected, b, 4 * h * w, c);
            assertClose(expected, full, 0);
            float[] back = new float[planes.length];
            org.restorerwkv.wkv.TokenOps.pixelUnshuffle(full, back, b, 2 * h, 2 * w, c);
            assertClose(packed, back, 0);
        }
    }
}
