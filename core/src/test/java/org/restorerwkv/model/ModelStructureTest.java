package org.restorerwkv.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import org.junit.jupiter.api.Test;
import static org.restorerwkv.TestResources.random;
import org.restorerwkv.io.HostTensor;

class ModelStructureTest {

    static final ModelConfig TINY = new ModelConfig(1, 1, 8, new int[] {1, 1, 1, 1}, 1, 2, 4);

    @Test
    void namedConfigurationsHaveThePapersParameterCounts() {
        // counted without allocating: shapes are explicit at construction
        assertEquals(28_371_137L, count(new RestoreRwkv(ModelConfig.DEFAULT)));
        assertEquals(1_202_969L, count(new RestoreRwkv(ModelConfig.LIGHT)));
    }

    private static long count(RestoreRwkv m) {
        return m.namedParameters().values().stream().mapToLong(p -> p.getShape().size()).sum();
    }

    @Test
    void inferenceFormDropsOnlyTheOmniShiftBranches() {
        RestoreRwkv m = new RestoreRwkv(TINY);
        long branches = m.namedParameters().entrySet().stream()
                .filter(e -> RestoreRwkv.isTrainingBranch(e.getKey()))
                .mapToLong(e -> e.getValue().getShape().size()).sum();
        try (NDManager nd = NDManager.newBaseManager()) {
            m.initialize(nd, 1);
            assertEquals(m.parameterCount() - branches, m.inferenceParameterCount());
            assertEquals(225_729L, m.parameterCount()); // parity/tiny-32x32/meta.json num_parameters
        }
    }

    @Test
    void keysFollowTheReferenceStateDict() {
        LinkedHashMap<String, ai.djl.nn.Parameter> p = new RestoreRwkv(TINY).namedParameters();
        assertTrue(p.containsKey("patch_embed.weight"));
        assertTrue(p.containsKey("encoder_level1.0.att.omni_shift.conv5x5_reparam.weight"));
        assertTrue(p.containsKey("down1_2.body.0.weight"));
        assertTrue(p.containsKey("refinement.0.ffn.value.weight"));
        assertArrayEquals(new long[] {2, 8}, p.get("encoder_level1.0.att.spatial_decay").getShape().getShape());
        assertArrayEquals(new long[] {32, 8}, p.get("encoder_level1.0.ffn.key.weight").getShape().getShape());
        assertArrayEquals(new long[] {4, 8, 3, 3}, p.get("down1_2.body.0.weight").getShape().getShape());
        assertArrayEquals(new long[] {128, 64, 3, 3}, p.get("up4_3.body.0.weight").getShape().getShape());
    }

    @Test
    void reparameterizedFormEqualsTrainingForm() {
        try (NDManager nd = NDManager.newBaseManager()) {
            RestoreRwkv m = RestoreRwkv.create(TINY, nd, 7);
            NDArray x = nd.create(random(32 * 40, 11), new Shape(1, 1, 32, 40));
            m.setWkvKernel(WkvKernel.DIFFERENTIABLE);
            float[] train = m.forward(x, true).toFloatArray();
            float[] infer = m.forward(x, false).toFloatArray();
            assertClose(train, infer, 2e-5);
            m.setWkvKernel(WkvKernel.AUTO); // fused kernel on CPU
            assertClose(train, m.forward(x, false).toFloatArray(), 2e-5);
        }
    }

    @Test
    void scanOrderMatters() {
        try (NDManager nd = NDManager.newBaseManager()) {
            RestoreRwkv m = RestoreRwkv.create(TINY, nd, 5);
            NDArray x = nd.create(random(32 * 32, 4), new Shape(1, 1, 32, 32));
            float[] yt = m.forward(x.transpose(0, 1, 3, 2), false).transpose(0, 1, 3, 2).toFloatArray();
            float[] y = m.forward(x, false).toFloatArray();
            double maxDiff = 0;
            for (int i = 0; i < y.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(y[i] - yt[i]));
            }
            // the network is not transpose-equivariant: row-then-column scans and 3x3 kernels see a transposed input differently
            assertTrue(maxDiff > 1e-3, "transposing the input transposed the output: " + maxDiff);
        }
    }

    @Test
    void inputSizesNotMultipleOf8AreRejectedByTheNetwork() {
        try (NDManager nd = NDManager.newBaseManager()) {
            RestoreRwkv m = RestoreRwkv.create(TINY, nd, 5);
            NDArray x = nd.zeros(new Shape(1, 1, 37, 53));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(x, false));
            assertTrue(e.getMessage().contains("multiples of 8"));
        }
    }

    @Test
    void loadRejectsWrongShapeAndMissingKeysNamingThem() {
        try (NDManager nd = NDManager.newBaseManager()) {
            RestoreRwkv m = RestoreRwkv.create(TINY, nd, 5);
            LinkedHashMap<String, HostTensor> sd = m.stateDict();
            LinkedHashMap<String, HostTensor> bad = new LinkedHashMap<>(sd);
            bad.put("latent.0.att.key.weight", new HostTensor(new long[] {64, 63}, new float[64 * 63]));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.load(bad));
            assertTrue(e.getMessage().contains("latent.0.att.key.weight"), e.getMessage());
            LinkedHashMap<String, HostTensor> missing = new LinkedHashMap<>(sd);
            missing.remove("output.bias");
            e = assertThrows(IllegalArgumentException.class, () -> m.load(missing));
            assertTrue(e.getMessage().contains("missing key: output.bias"), e.getMessage());
            LinkedHashMap<String, HostTensor> extra = new LinkedHashMap<>(sd);
            extra.put("head.weight", new HostTensor(new long[] {1}, new float[1]));
            e = assertThrows(IllegalArgumentException.class, () -> m.load(extra));
            assertTrue(e.getMessage().contains("unexpected key: head.weight"), e.getMessage());
        }
    }

    @Test
    void staleReparamWeightInACheckpointIsIgnored() {
        try (NDManager nd = NDManager.newBaseManager()) {
            RestoreRwkv a = RestoreRwkv.create(TINY, nd, 5);
            LinkedHashMap<String, HostTensor> sd = a.stateDict();
            NDArray x = nd.create(random(32 * 32, 2), new Shape(1, 1, 32, 32));
            float[] expected = a.forward(x, false).toFloatArray();
            sd.replaceAll((k, t) -> k.endsWith("conv5x5_reparam.weight")
                    ? new HostTensor(t.shape(), random(t.data().length, 9)) : t);
            RestoreRwkv b = RestoreRwkv.create(TINY, nd, 6);
            b.load(sd);
            assertClose(expected, b.forward(x, false).toFloatArray(), 1e-6);
            assertFalse(b.check(sd).describe().isEmpty());
        }
    }

    static void assertClose(float[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length);
        double d = 0;
        for (int i = 0; i < expected.length; i++) {
            d = Math.max(d, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(d <= tol, "max |diff| " + d + " > " + tol);
    }
}
