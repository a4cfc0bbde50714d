package org.restorerwkv.spark;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.restorerwkv.api.RestorationModel;
import org.restorerwkv.wkv.BiWkv;

/**
 * The models of this executor JVM: each (weights, batch, tiling) is loaded once, by the first task
 * that needs it, and shared by every later task (RestorationModel is thread-safe). They live until
 * the JVM ends, which is the executor's lifetime.
 *
 * <p>Threads: libtorch reads its thread count when its engine starts, and the fused kernels' count
 * is process-wide, so the first load fixes both to that task's cores ({@code spark.task.cpus}); the
 * executor runs all its tasks with the same count, so every output is what {@code restore --threads
 * N} gives for the same N.
 */
final class ExecutorModel {

    private static final Map<List<Object>, RestorationModel> MODELS = new HashMap<>();
    private static boolean threadsFixed;

    private ExecutorModel() {}

    static synchronized RestorationModel get(JobOptions o, int taskCpus) throws IOException {
        if (!threadsFixed) {
            if (System.getProperty("ai.djl.offline") == null) {
                System.setProperty("ai.djl.offline", "true"); // libtorch and the weights are in the jars
            }
            int n = Math.max(1, taskCpus);
            if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
                System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(n));
                System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
            }
            BiWkv.setThreads(n);
            threadsFixed = true;
        }
        List<Object> key = List.of(o.weights(), o.batch(), o.tile(), o.overlap());
        RestorationModel m = MODELS.get(key);
        if (m == null) {
            // RestorationModel loads with libtorch's grad mode off on whichever task thread loads it
            RestorationModel.Builder b = RestorationModel.builder(o.weights()).batchSize(o.batch());
            m = (o.tile() == org.restorerwkv.infer.Restorer.AUTO ? b.autoTiling(o.overlap()) : b.tiling(o.tile(), o.overlap()))
                    .build();
            MODELS.put(key, m);
        }
        return m;
    }
}
