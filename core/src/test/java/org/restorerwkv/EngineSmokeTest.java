package org.restorerwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/** The bundled libtorch loads offline and records gradients through the ops the model uses. */
class EngineSmokeTest {
    @Test
    void pytorchEngineLoadsOfflineAndDifferentiatesCumsum() {
        assertEquals("PyTorch", Engine.getInstance().getEngineName());
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1, 2, 3});
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = x.cumSum(0).sum();
                gc.backward(y);
            }
            assertArrayEquals(new float[] {3, 2, 1}, x.getGradient().toFloatArray());
        }
    }
}
