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
            assertThrows(IllegalStateException.class, () -> model.stageSeconds(m.zeros(new Shape(1, 1, 16, 16))));
        }
    }
}
