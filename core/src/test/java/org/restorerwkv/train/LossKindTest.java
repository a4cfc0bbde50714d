package org.restorerwkv.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

class LossKindTest {

    @Test
    void eachLossOfAKnownDifference() {
        try (NDManager nd = NDManager.newBaseManager()) {
            NDArray p = nd.create(new float[] {1, 2, 3, 4});
            NDArray t = nd.create(new float[] {1, 0, 6, 4}); // differences 0, 2, -3, 0
            assertEquals(5.0 / 4, LossKind.L1.apply(p, t, 1e-3).getFloat(), 1e-6);
            assertEquals(13.0 / 4, LossKind.L2.apply(p, t, 1e-3).getFloat(), 1e-6);
            double eps = 0.5;
            double charbonnier = (2 * eps + Math.sqrt(4 + eps * eps) + Math.sqrt(9 + eps * eps)) / 4;
            assertEquals(charbonnier, LossKind.CHARBONNIER.apply(p, t, eps).getFloat(), 1e-6);
        }
    }

    @Test
    void parsesNamesAndRejectsOthers() {
        assertEquals(LossKind.L2, LossKind.parse(" MSE "));
        assertEquals(LossKind.L2, LossKind.parse("l2"));
        assertEquals(LossKind.CHARBONNIER, LossKind.parse("charbonnier"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LossKind.parse("huber"));
        assertEquals("unknown loss 'huber': expected l1, l2 or charbonnier", e.getMessage());
    }
}
