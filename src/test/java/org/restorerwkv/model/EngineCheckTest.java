package org.restorerwkv.model;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/** The test JVM runs with DNNL_MAX_CPU_ISA=AVX2 (pom.xml), under which batched conv gradients are right. */
class EngineCheckTest {
    @Test
    void batchedConvolutionGradientsEqualPerImageGradients() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertDoesNotThrow(() -> EngineCheck.requireCorrectBatchedConvGradients(m));
        }
    }
}
