package org.restorerwkv.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;

/**
 * Where an inference pass spends its time: wall time and achieved GFLOP/s per stage of Figure 2
 * (timed exactly, around each stage), and the share of each kind of kernel (sampled by the JDK's
 * flight recorder, so the element-wise work, which has no FLOP count, shows too).
 */
public final class StageProfile {

    /** One stage: median wall seconds over the runs, and its multiply-adds. */
    public record Stage(String name, double seconds, double macs) {
        public double gflops() {
            return seconds > 0 ? 2 * macs / seconds / 1e9 : 0;
        }
    }

    /**
     * The stages in order, and the sampled share (0..1) of each kernel kind, largest first. The
     * recorder samples Java threads; libtorch's own worker threads are native and unseen, so a sample
     * of a Java thread waiting in libtorch counts for {@code threads} (libtorch runs its products on
     * all of them): an estimate, where the stage times are exact. {@code matmuls} is the pass's
     * matmuls alone (timed exactly around each product, {@link RestoreRwkv.PassProfile}): their
     * median wall seconds and multiply-adds.
     */
    public record Result(List<Stage> stages, Stage matmuls, Map<String, Double> kernelShares, int samples) {
        public double totalSeconds() {
            return stages.stream().mapToDouble(Stage::seconds).sum();
        }

        /** Achieved GFLOP/s of the whole pass. */
        public double gflops() {
            return 2 * stages.stream().mapToDouble(Stage::macs).sum() / totalSeconds() / 1e9;
        }
    }

    /** Kernel kinds by the class of the innermost project frame of a sample. */
    private static final Map<String, String> KINDS = Map.of(
            "org.restorerwkv.wkv.TokenLinear", "matmuls: linear layers, 1x1 and im2col convolutions (Java)",
            "org.restorerwkv.wkv.NarrowConv", "output convolution (Java)",
            "org.restorerwkv.wkv.SimdBiWkv", "Bi-WKV",
            "org.restorerwkv.wkv.ScalarBiWkv", "Bi-WKV",
            "org.restorerwkv.wkv.OmniShiftKernel", "Omni-Shift",
            "org.restorerwkv.wkv.TokenOps", "layer norms, gates, residuals, im2col, layout (element-wise)");
    /** Helpers whose time belongs to the kernel that called them (exp: the Bi-WKV's and the gates'). */
    private static final String HELPER = "org.restorerwkv.wkv.FastExp";
    private static final String LIBTORCH = "libtorch (the widest convolutions' products, native)";
    private static final String OTHER = "other";

    private StageProfile() {}

    /**
     * Profiles {@code runs} whole-slice inference passes of a size x size random slice after the
     * JIT has compiled the kernels, with {@code threads} libtorch threads.
     */
    public static Result run(ModelConfig config, int size, int warmup, int runs, int threads, NDManager manager)
            throws IOException {
        RestoreRwkv model = RestoreRwkv.create(config, manager, 0);
        float[] data = Bench.random(config.inpChannels() * size * size, 1);
        Shape shape = new Shape(1, config.inpChannels(), size, size);
        List<RestoreRwkv.PassProfile> timings = new ArrayList<>();
        Runnable pass = () -> {
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = scope.create(data, shape);
                timings.add(model.profilePass(x));
            }
        };
        Bench.warmFor(Bench.KERNEL_WARMUP_SECONDS, warmup, pass);
        timings.clear();
        Path jfr = Files.createTempFile("restore-rwkv-profile", ".jfr");
        try {
            try (Recording rec = new Recording()) {
                rec.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(10));
                rec.enable("jdk.NativeMethodSample").withPeriod(Duration.ofMillis(10));
                rec.start();
                for (int i = 0; i < runs; i++) {
                    pass.run();
                }
                rec.stop();
                rec.dump(jfr);
            }
            Map<String, Double> macs = Flops.stageMacs(config, size, size);
            List<Stage> stages = new ArrayList<>();
            for (String name : timings.get(0).stageSeconds().keySet()) {
                double[] t = timings.stream().mapToDouble(m -> m.stageSeconds().get(name)).sorted().toArray();
                stages.add(new Stage(name, Bench.median(t), macs.getOrDefault(name, 0.0)));
            }
            Stage matmuls = new Stage("matmuls", Bench.median(timings.stream()
                    .mapToDouble(RestoreRwkv.PassProfile::matmulSeconds).sorted().toArray()), timings.get(0).matmulMacs());
            return shares(jfr, stages, matmuls, threads);
        } finally {
            Files.deleteIfExists(jfr);
        }
    }

    private static Result shares(Path jfr, List<Stage> stages, Stage matmuls, int threads) throws IOException {
        Map<String, Double> weights = new LinkedHashMap<>();
        double total = 0;
        int samples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
            String kind = kind(e);
            if (kind != null) {
                double wt = kind.equals(LIBTORCH) ? threads : 1;
                weights.merge(kind, wt, Double::sum);
                total += wt;
                samples++;
            }
        }
        Map<String, Double> shares = new LinkedHashMap<>();
        double n = total;
        weights.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
                .forEach(en -> shares.put(en.getKey(), en.getValue() / n));
        return new Result(stages, matmuls, shares, samples);
    }

    /** The kind of one sample, or null for a thread that waits (parked, or in native code outside libtorch). */
    private static String kind(RecordedEvent e) {
        if (e.getStackTrace() == null) {
            return null;
        }
        List<RecordedFrame> frames = e.getStackTrace().getFrames();
        boolean running = e.getEventType().getName().equals("jdk.ExecutionSample");
        if (!running) {
            return frames.stream().anyMatch(f -> f.getMethod().getType().getName().startsWith("ai.djl.pytorch.jni"))
                    ? LIBTORCH : null;
        }
        for (RecordedFrame f : frames) {
            String type = f.getMethod().getType().getName();
            if (type.startsWith("org.restorerwkv.") && !type.startsWith(HELPER)) {
                int nested = type.indexOf('$');
                String outer = nested < 0 ? type : type.substring(0, nested);
                return KINDS.getOrDefault(outer, OTHER);
            }
        }
        return OTHER;
    }
}
