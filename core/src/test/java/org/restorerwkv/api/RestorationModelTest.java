package org.restorerwkv.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.restorerwkv.TestResources;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.infer.RestoreListener;
import org.restorerwkv.io.HostTensor;

class RestorationModelTest {

    private static final int N = 8;
    private static final int SIDE = 48;

    /** Eight different MRI-like slices in scanner units. */
    private static float[][] slices() {
        float[][] s = new float[N][];
        for (int i = 0; i < N; i++) {
            float[] a = TestResources.random(SIDE * SIDE, 100 + i);
            for (int j = 0; j < a.length; j++) {
                a[j] = 200 + 600 * a[j];
            }
            s[i] = a;
        }
        return s;
    }

    @Test
    void fourThreadsOnOneModelGiveTheSequentialResultBitForBit() throws Exception {
        float[][] in = slices();
        try (RestorationModel model = RestorationModel.load("builtin:mri-sr-light")) {
            float[][] sequential = new float[N][];
            for (int i = 0; i < N; i++) {
                sequential[i] = model.restoreSlice(in[i], SIDE, SIDE, Modality.MRI);
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<float[]>> futures = new ArrayList<>();
                for (int i = 0; i < N; i++) {
                    int k = i;
                    futures.add(pool.submit(() -> {
                        start.await(); // all four threads contend from the first call on
                        return model.restoreSlice(in[k], SIDE, SIDE, Modality.MRI);
                    }));
                }
                start.countDown();
                for (int i = 0; i < N; i++) {
                    assertArrayEquals(sequential[i], futures.get(i).get(), "slice " + i);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aModelLoadedOnAnotherThreadRestoresLikeOneLoadedHere() throws Exception {
        float[] in = slices()[0];
        float[] here;
        try (RestorationModel model = RestorationModel.load("builtin:all-in-one-light")) {
            here = model.restoreSlice(in, SIDE, SIDE, Modality.CT);
        }
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            float[] there = pool.submit(() -> {
                try (RestorationModel model = RestorationModel.load("builtin:all-in-one-light")) {
                    return model.restoreSlice(in, SIDE, SIDE, Modality.CT);
                }
            }).get();
            assertArrayEquals(here, there);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void loadReadsScalingAndCardFromTheWeights() throws Exception {
        try (RestorationModel model = RestorationModel.load("builtin:mri-sr-light")) {
            assertEquals(IntensityScaling.MRI_PERCENTILE, model.scaling());
            assertEquals(List.of(Modality.MRI), model.modalities());
            assertTrue(model.identity().startsWith("builtin:mri-sr-light@"), model.identity());
            assertEquals(16, model.config().dim());
        }
        try (RestorationModel model = RestorationModel.load(TestResources.path("parity/tiny-32x32/weights.pth"))) {
            assertEquals(IntensityScaling.FIXED, model.scaling()); // a .pth carries no metadata: the reference protocol
            assertEquals(List.of(), model.modalities());
        }
    }

    @Test
    void loadingLeavesLibtorchsRandomStreamAlone() throws Exception {
        float[] expected;
        float[] after;
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(1234);
            m.randomUniform(0, 1, new Shape(4)).toFloatArray();
            expected = m.randomUniform(0, 1, new Shape(4)).toFloatArray();
            Engine.getInstance().setRandomSeed(1234);
            m.randomUniform(0, 1, new Shape(4)).toFloatArray();
            try (RestorationModel model = RestorationModel.load("builtin:all-in-one-light")) {
                assertEquals(16, model.config().dim());
            }
            after = m.randomUniform(0, 1, new Shape(4)).toFloatArray();
        }
        assertArrayEquals(expected, after);
    }

    @Test
    void aListenerHearsProgressAndCanCancel() throws Exception {
        float[][] in = slices();
        float[] stack = new float[N * SIDE * SIDE];
        for (int i = 0; i < N; i++) {
            System.arraycopy(in[i], 0, stack, i * SIDE * SIDE, SIDE * SIDE);
        }
        HostTensor t = new HostTensor(new long[] {N, SIDE, SIDE}, stack);
        try (RestorationModel model = RestorationModel.builder("builtin:all-in-one-light").batchSize(2).build()) {
            List<Integer> seen = new ArrayList<>();
            model.restore(t, Modality.CT, new RestoreListener() {
                @Override
                public void progress(int done, int total) {
                    assertEquals(N, total);
                    seen.add(done);
                }
            });
            assertEquals(List.of(2, 4, 6, 8), seen);
            CancellationException e = assertThrows(CancellationException.class, () -> model.restore(t, Modality.CT,
                    new RestoreListener() {
                        private int polls;

                        @Override
                        public boolean cancelled() {
                            return ++polls > 2;
                        }
                    }));
            assertTrue(e.getMessage().contains("after 4 of 8"), e.getMessage());
        }
    }

    @Test
    void badOptionsAreRefusedBeforeAnythingRuns() {
        assertThrows(IllegalArgumentException.class, () -> RestorationModel.builder("builtin:all-in-one-light").batchSize(0));
        assertThrows(IllegalArgumentException.class, () -> RestorationModel.load("builtin:no-such-model"));
        assertThrows(IllegalArgumentException.class,
                () -> RestorationModel.builder("builtin:all-in-one-light").tiling(100, 8).build());
        assertThrows(IllegalArgumentException.class, () -> RestorationModel.builder("builtin:all-in-one-light").maxMemory(0));
        assertThrows(IllegalArgumentException.class,
                () -> RestorationModel.builder("builtin:all-in-one-light").autoTiling(64).build());
    }

    @Test
    void slicesAreRestoredWholeUnlessTheMemoryBudgetIsTooSmall() throws IOException {
        try (RestorationModel roomy = RestorationModel.load("builtin:all-in-one-light")) {
            org.restorerwkv.infer.TilingPlan p = roomy.tilingPlan(4, 512, 512);
            assertTrue(!p.tiled() && p.slicesPerPass() == 4, p.toString());
            long budget = org.restorerwkv.infer.MemoryEstimate.passBytes(roomy.config(), 1, 256, 256);
            try (RestorationModel tight = RestorationModel.builder("builtin:all-in-one-light").maxMemory(budget).build()) {
                org.restorerwkv.infer.TilingPlan t = tight.tilingPlan(4, 512, 512);
                assertTrue(t.tiled() && t.tile() == 256 && t.budgetBytes() == budget, t.toString());
                assertTrue(!tight.tilingPlan(4, 256, 256).tiled());
            }
        }
    }
}
