package org.restorerwkv.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.restorerwkv.TestResources.random;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;

class AutoTilingTest {

    static final ModelConfig TINY = RestorerTest.TINY;

    @Test
    void theEstimateGrowsWithPaddedPixelsAndSlicesAndBoundsTheActivationsThatMustCoexist() {
        for (ModelConfig c : new ModelConfig[] {ModelConfig.LIGHT, ModelConfig.DEFAULT}) {
            long one = MemoryEstimate.passBytes(c, 1, 256, 256);
            long fixed = MemoryEstimate.FIXED_BYTES;
            assertEquals(4 * (one - fixed), MemoryEstimate.passBytes(c, 1, 512, 512) - fixed, 4);
            assertEquals(3 * (one - fixed), MemoryEstimate.passBytes(c, 3, 256, 256) - fixed, 3);
            assertEquals(one, MemoryEstimate.passBytes(c, 1, 250, 249), 1, "padded to a multiple of 8");
            // a pass holds at least its input, its output and, at full resolution, a block's input
            // beside the channel mix's hidden activation (hidden_rate x dim): float32 per pixel
            double pixels = 256.0 * 256;
            double floor = 4 * pixels * (c.inpChannels() + c.outChannels() + c.dim() + c.hiddenRate() * c.dim());
            assertTrue(one >= floor, c + ": " + one + " < " + floor);
        }
    }

    @Test
    void wholeSlicesWhileTheyFitThenFewerPerPassThenTheLargestTileThatFits() {
        try (NDManager m = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(TINY, m, 3);
            long four = MemoryEstimate.passBytes(TINY, 4, 100, 90);
            TilingPlan roomy = new Restorer(model, m, 4, Restorer.AUTO, 8, four).plan(10, 100, 90);
            assertEquals(new TilingPlan(4, 0, 8, four, four), roomy);
            assertEquals(2, new Restorer(model, m, 4, Restorer.AUTO, 8, MemoryEstimate.passBytes(TINY, 2, 100, 90)).plan(10, 100, 90).slicesPerPass());
            assertEquals(3, new Restorer(model, m, 4, Restorer.AUTO, 8, four).plan(3, 100, 90).slicesPerPass());
            long budget = MemoryEstimate.passBytes(TINY, 1, 72, 72);
            TilingPlan tight = new Restorer(model, m, 4, Restorer.AUTO, 8, budget).plan(10, 100, 90);
            assertTrue(tight.tiled());
            assertEquals(72, tight.tile(), "the largest multiple of 8 whose pass fits");
            assertEquals(1, tight.slicesPerPass());
            assertTrue(tight.describe(100, 90).contains("72 x 72 tiles"), tight.describe(100, 90));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Restorer(model, m, 1, Restorer.AUTO, 8, 1000).plan(1, 100, 90));
            assertTrue(e.getMessage().contains("too small"), e.getMessage());
            // a fixed tile is kept whatever the budget; 0 never tiles
            assertEquals(32, new Restorer(model, m, 1, 32, 8, 1L << 40).plan(1, 100, 90).tile());
            assertFalse(new Restorer(model, m, 1, 0, 0, 1000).plan(1, 100, 90).tiled());
        }
    }

    @Test
    void automaticTilingRestoresExactlyAsTheTilingItChose() {
        try (NDManager m = NDManager.newBaseManager()) {
            RestoreRwkv model = RestoreRwkv.create(TINY, m, 3);
            HostTensor x = new HostTensor(new long[] {2, 100, 90}, random(2 * 100 * 90, 7));
            long budget = MemoryEstimate.passBytes(TINY, 1, 72, 72);
            float[] auto = new Restorer(model, m, 2, Restorer.AUTO, 8, budget).restore(x).data();
            assertArrayEquals(new Restorer(model, m, 1, 72, 8).restore(x).data(), auto);
            float[] whole = new Restorer(model, m, 2, Restorer.AUTO, 8, 1L << 40).restore(x).data();
            assertArrayEquals(new Restorer(model, m, 2, 0, 0).restore(x).data(), whole);
            // restoreBatch follows the plan too: two slices that do not fit one pass run one by one
            long oneSlice = MemoryEstimate.passBytes(TINY, 1, 100, 90);
            float[] split = new Restorer(model, m, 2, Restorer.AUTO, 8, oneSlice).restoreBatch(x.data(), 2, 100, 90);
            assertArrayEquals(new Restorer(model, m, 1, 0, 0).restore(x).data(), split);
        }
    }

    @Test
    void theDefaultBudgetIsPositiveAndWithinTheHeap() {
        long b = MemoryEstimate.defaultBudget();
        assertTrue(b > 0 && b <= Runtime.getRuntime().maxMemory(), "budget " + b);
    }
}
