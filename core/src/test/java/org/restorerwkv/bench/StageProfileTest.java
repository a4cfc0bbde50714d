package org.restorerwkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;

class StageProfileTest {

    @Test
    void everyStageOfFigure2IsTimedAndCountedOnceInOrder() throws Exception {
        ModelConfig c = ModelConfig.LIGHT;
        try (NDManager m = NDManager.newBaseManager()) {
            StageProfile.Result r = StageProfile.run(c, 32, 1, 2, 1, m);
            Map<String, Double> macs = Flops.stageMacs(c, 32, 32);
            List<String> names = new ArrayList<>();
            for (StageProfile.Stage s : r.stages()) {
                names.add(s.name());
                assertTrue(s.seconds() > 0, s.name());
                assertEquals(macs.get(s.name()), s.macs(), s.name());
            }
            assertEquals(new ArrayList<>(macs.keySet()), names);
            assertEquals(Flops.forwardMacs(c, 32, 32), r.stages().stream().mapToDouble(StageProfile.Stage::macs).sum(), 1e-3);
            // the matmuls alone: every linear layer and convolution but the depthwise Omni-Shifts and the
            // output convolution (NarrowConv), timed within the pass
            int[] n = c.numBlocks();
            double d = c.dim();
            double t1 = 32 * 32;
            double omniShift = 2 * 25 * d * t1 * (n[0] + n[1] * 2 / 4.0 + n[2] * 4 / 16.0 + n[3] * 8 / 64.0
                    + n[2] * 4 / 16.0 + n[1] * 2 / 4.0 + n[0] * 2 + c.numRefinementBlocks() * 2);
            assertEquals(Flops.forwardMacs(c, 32, 32) - omniShift - macs.get("output"), r.matmuls().macs(), 1e-3);
            assertTrue(r.matmuls().seconds() > 0 && r.matmuls().seconds() < r.totalSeconds());
            if (r.samples() > 0) {
                assertEquals(1.0, r.kernelShares().values().stream().mapToDouble(Double::doubleValue).sum(), 1e-9);
            }
        }
    }

    @Test
    void stageTimingRefusesARecordedPass() throws Exception {
        ModelConfig c = ModelConfig.LIGHT;
        try (NDManager m = NDManager.newBaseManager();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            RestoreRwkv model = RestoreRwkv.create(c, m, 0);
            assertThrows(IllegalStateException.class, () -> model.profilePass(m.zeros(new Shape(1, 1, 16, 16))));
        }
    }
}
