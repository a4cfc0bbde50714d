package org.restorerwkv.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.restorerwkv.checkpoint.Checkpoints;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;

/**
 * The ablation variants as whole networks: saved and loaded like the reference model (config in
 * the safetensors metadata, or read off the keys), the inference fast path equal to the DJL path,
 * and the fused Bi-WKV training path equal to plain autograd. The block-level parity with the
 * float64 definitions is {@link TokenShiftParityTest}.
 */
class AblationVariantsTest {

    @TempDir Path dir;

    static ModelConfig tiny(TokenShift shift, int recurrence) {
        return new ModelConfig(1, 1, 6, new int[] {1, 1, 1, 1}, 1, recurrence, 2, shift);
    }

    @ParameterizedTest
    @CsvSource({"OMNI,2", "QUAD,2", "UNI,2", "NONE,2", "OMNI,1"})
    void saveLoadRoundTripKeepsConfigAndOutputs(TokenShift shift, int recurrence) throws Exception {
        ModelConfig config = tiny(shift, recurrence);
        try (NDManager m = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(config, m, 4);
            NDArray x = m.randomUniform(0, 1, new Shape(2, 1, 16, 24));
            float[] before = model.forward(x, false).toFloatArray();
            Map<String, HostTensor> state = model.stateDict();
            assertEquals(shift == TokenShift.QUAD, state.containsKey("latent.0.att.spatial_mix_v"), state.keySet().toString());
            assertEquals(shift == TokenShift.UNI, state.containsKey("refinement.0.ffn.time_mix_r"), state.keySet().toString());
            assertEquals(shift == TokenShift.OMNI, state.containsKey("encoder_level1.0.att.omni_shift.alpha"));

            Path withMeta = dir.resolve("with-meta.safetensors");
            Weights.write(withMeta, state, config, IntensityScaling.FIXED);
            RestoreRwkv loaded = Weights.loadModel(withMeta, null, m);
            assertEquals(config, loaded.config());
            // equal up to the summation order of multi-threaded kernels
            assertMaxAbs("reloaded output", before, loaded.forward(x, false).toFloatArray(), 1e-5);

            // without metadata the keys and shapes tell the variant
            Path bare = dir.resolve("bare.safetensors");
            Checkpoints.write(bare, state);
            assertEquals(config, Weights.configOf(bare, Weights.readModelState(bare)));
            assertMaxAbs("output from bare keys", before, Weights.loadModel(bare, null, m).forward(x, false).toFloatArray(), 1e-5);

            // another variant's weights do not fit this one: refused naming keys, never loaded half
            ModelConfig other = tiny(shift == TokenShift.QUAD ? TokenShift.UNI : TokenShift.QUAD, recurrence);
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> Weights.loadModel(withMeta, other, m));
            assertTrue(e.getMessage().contains("key"), e.getMessage());
        }
    }

    /**
     * Inference of the whole network: the fast path on host tokens (every shift has one) equals the
     * DJL path (taken with the differentiable Bi-WKV, which the fast path does not serve). Each
     * block's fast path against the definition is in {@link TokenShiftParityTest}.
     */
    @ParameterizedTest
    @CsvSource({"QUAD,2", "UNI,1", "NONE,2"})
    void fastPathEqualsDjlPath(TokenShift shift, int recurrence) {
        try (NDManager m = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(tiny(shift, recurrence), m, 6);
            NDArray x = m.randomUniform(0, 1, new Shape(2, 1, 24, 16));
            float[] fast = model.forward(x, false).toFloatArray();
            model.setWkvKernel(WkvKernel.DIFFERENTIABLE);
            float[] djl = model.forward(x, false).toFloatArray();
            assertMaxAbs("fast path vs DJL path", djl, fast, 1e-4);
        }
    }

    /** Training: the fused Bi-WKV pair (CPU, the trainer's path) gives autograd's loss and gradients. */
    @ParameterizedTest
    @CsvSource({"QUAD,2", "UNI,1", "NONE,2"})
    void fusedTrainingEqualsAutograd(TokenShift shift, int recurrence) {
        try (NDManager m = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(tiny(shift, recurrence), m, 8);
            NDArray x = m.randomUniform(0, 1, new Shape(2, 1, 16, 16));
            NDArray target = m.randomUniform(0, 1, new Shape(2, 1, 16, 16));
            Map<String, float[]> fused = gradients(model, x, target, WkvKernel.AUTO);
            Map<String, float[]> autograd = gradients(model, x, target, WkvKernel.DIFFERENTIABLE);
            assertEquals(autograd.keySet(), fused.keySet());
            for (String k : autograd.keySet()) {
                float[] ref = autograd.get(k);
                double scale = 1;
                for (float v : ref) {
                    scale = Math.max(scale, Math.abs(v));
                }
                assertMaxAbs("grad " + k, ref, fused.get(k), 1e-3 * scale);
            }
            assertTrue(autograd.keySet().stream().anyMatch(k -> shift == TokenShift.NONE || k.contains("_mix_")),
                    "the shift's mixes are trained: " + autograd.keySet());
        }
    }

    private static Map<String, float[]> gradients(RestoreRwkv model, NDArray x, NDArray target, WkvKernel kernel) {
        Map<String, Parameter> params = model.namedParameters();
        for (Parameter p : params.values()) {
            if (p.getArray().hasGradient()) {
                p.getArray().getGradient().muli(0); // DJL accumulates gradients across collectors
            }
        }
        model.setWkvKernel(kernel);
        model.setFusedTraining(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = model.forward(x, true).sub(target).abs().mean();
            model.backward(gc, loss);
        } finally {
            model.setWkvKernel(WkvKernel.AUTO);
            model.setFusedTraining(false);
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        params.forEach((k, p) -> {
            if (p.getArray().hasGradient()) {
                out.put(k, p.getArray().getGradient().toFloatArray());
            }
        });
        return out;
    }

    @Test
    void configJsonRoundTripsEveryVariantAndOldConfigsMeanOmni() {
        for (TokenShift s : TokenShift.values()) {
            for (int r : new int[] {1, 2, 3}) {
                ModelConfig c = ModelConfig.LIGHT.withVariant(s, r);
                assertEquals(c, ModelConfig.fromJson(c.toJson()));
                assertTrue(c.toJson().contains("\"token_shift\": \"" + s.id() + "\""), c.toJson());
            }
        }
        String old = "{\"inp_channels\": 1, \"out_channels\": 1, \"dim\": 16, \"num_blocks\": [1, 1, 2, 2], \"num_refinement_blocks\": 1}";
        assertEquals(ModelConfig.LIGHT, ModelConfig.fromJson(old));
        assertTrue(ModelConfig.LIGHT.withVariant(TokenShift.UNI, 1).toString().endsWith("recurrence=1 hidden_rate=4 token_shift=uni"));
    }

    @Test
    void unknownOrMisspeltFieldsAndBadValuesAreErrorsNamingThem() throws Exception {
        String base = "\"inp_channels\": 1, \"out_channels\": 1, \"dim\": 16, \"num_blocks\": [1, 1, 2, 2], \"num_refinement_blocks\": 1";
        String[][] cases = {
            {"\"token_shfit\": \"quad\"", "unknown field \"token_shfit\""},
            {"\"recurrance\": 1", "unknown field \"recurrance\""},
            {"\"token_shift\": \"Quad-Shift\"", "token_shift must be one of omni, quad, uni, none, got \"Quad-Shift\""},
            {"\"token_shift\": 2", "\"token_shift\" must be a string"},
            {"\"recurrence\": 1.5", "\"recurrence\" must be an integer, got 1.5"},
            {"\"recurrence\": 0", "recurrence >= 1"},
            {"\"recurrence\": \"2\"", "\"recurrence\" must be an integer"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ModelConfig.fromJson("{" + base + ", " + c[0] + "}"), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
        // a config file: one line naming the file and the field
        Path file = dir.resolve("variant.json");
        Files.writeString(file, "{" + base + ", \"token_shfit\": \"quad\"}");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelConfig.resolve(file.toString()));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("unknown field \"token_shfit\""),
                e.getMessage());
        // the same in a checkpoint's metadata
        try (NDManager m = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(tiny(TokenShift.OMNI, 2), m, 1);
            Path w = dir.resolve("bad-meta.safetensors");
            String json = model.config().toJson().replace("\"hidden_rate\"", "\"hiden_rate\"");
            Checkpoints.write(w, model.stateDict(), Map.of(Weights.CONFIG_METADATA, json));
            InvalidInputException bad = assertThrows(InvalidInputException.class, () -> Weights.loadModel(w, null, m));
            assertTrue(bad.getMessage().contains("unknown field \"hiden_rate\""), bad.getMessage());
        }
    }

    static void assertMaxAbs(String what, float[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length, what);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= tol, what + ": max |diff| " + worst + " > " + tol);
    }
}
