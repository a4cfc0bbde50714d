package org.restorerwkv.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Locale;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.restorerwkv.infer.MemoryEstimate;
import org.restorerwkv.infer.Restorer;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;
import org.restorerwkv.wkv.BiWkv;
import org.restorerwkv.wkv.TokenLinear;

/** The measurements behind {@code restore-rwkv bench}: timings of whole-model passes and kernels. */
public final class Bench {

    /** One timed configuration. */
    public record Result(String config, int size, String mode, int batch, double medianS, double minS,
                         double cpuS, double gflops, double peakRssMb) {}

    /** An optimizer step run after each training backward (the trainer's Adam, or none). */
    public interface Step {
        void apply(RestoreRwkv model);
    }

    private Bench() {}

    /** Times {@code runs} calls after {@code warmup} untimed ones; returns seconds, sorted. */
    public static double[] time(int warmup, int runs, Runnable r) {
        for (int i = 0; i < warmup; i++) {
            r.run();
        }
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        return t;
    }

    /**
     * Median CPU seconds the calling thread spends per call: with one libtorch thread and one
     * kernel thread all work runs on it, so this is robust to other processes' load.
     */
    public static double cpuTime(int runs, Runnable r) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = mx.getCurrentThreadCpuTime();
            r.run();
            t[i] = (mx.getCurrentThreadCpuTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        return median(t);
    }

    public static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /**
     * Inference (train=false) or a training step (forward, L1, backward, optimizer step), with
     * gradient checkpointing when {@code checkpointing} is set.
     */
    public static Result model(String name, ModelConfig config, int size, int batch, boolean train, boolean checkpointing,
                               int warmup, int runs, Step step, NDManager manager) {
        RestoreRwkv model = RestoreRwkv.create(config, manager, 0);
        model.setCheckpointing(checkpointing);
        model.setFusedTraining(true); // the trainer's setting
        float[] data = random(batch * config.inpChannels() * size * size, 1);
        Shape shape = new Shape(batch, config.inpChannels(), size, size);
        Runnable pass = () -> {
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = scope.create(data, shape);
                if (!train) {
                    model.forward(x, false).toFloatArray();
                    return;
                }
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = model.forward(x, true).sub(x).abs().mean();
                    model.backward(gc, loss);
                }
                if (step != null) {
                    step.apply(model);
                }
            }
        };
        warmFor(KERNEL_WARMUP_SECONDS, warmup, pass); // until the JIT has compiled the kernels
        double[] t = time(0, runs, pass);
        double cpu = cpuTime(runs, pass);
        double macs = (train ? Flops.trainStepMacs(config, size, size) : Flops.forwardMacs(config, size, size)) * batch;
        double med = median(t);
        return new Result(name, size, train ? "train" : "infer", batch, med, t[0], cpu, 2 * macs / med / 1e9, peakRssMb());
    }

    /**
     * The machine's practical matmul peak: the best achieved GFLOP/s of a square float32 n x n matmul
     * through libtorch and of the Java kernel ({@link TokenLinear}) on the shape of the light model's
     * widest convolution as im2col computes it ((16384 x 1152) x (1152 x 256)), which runs faster than
     * libtorch's square product on AVX-512 machines.
     */
    public static double matmulPeakGflops(NDManager manager, int n) {
        double torch;
        try (NDManager scope = manager.newSubManager()) {
            NDArray a = scope.randomUniform(-1, 1, new Shape(n, n));
            NDArray b = scope.randomUniform(-1, 1, new Shape(n, n));
            double[] t = time(2, 5, () -> {
                try (NDManager s = scope.newSubManager()) {
                    NDArray c = a.matMul(b);
                    c.attach(s);
                    c.getFloat(0, 0);
                }
            });
            torch = 2.0 * n * n * n / t[0] / 1e9;
        }
        int rows = 16384;
        int k = 1152;
        int cols = 256;
        float[] x = random(rows * k, 2);
        float[] w = random(k * cols, 3);
        float[] out = new float[rows * cols];
        warmFor(1, 1, () -> TokenLinear.linear(x, w, k, cols, out, rows)); // compiled before the timed runs
        double[] t = time(0, 5, () -> TokenLinear.linear(x, w, k, cols, out, rows));
        return Math.max(torch, 2.0 * rows * k * cols / t[0] / 1e9);
    }

    /**
     * Kernel warm-up: the JIT compiles the vector-API kernel only after many calls (until then each
     * vector operation is an object), so a few warm-up runs would time the interpreter.
     */
    static final double KERNEL_WARMUP_SECONDS = 3;

    /** Runs r for at least {@code seconds} (and at least {@code minRuns} times). */
    static void warmFor(double seconds, int minRuns, Runnable r) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        for (int i = 0; i < minRuns || System.nanoTime() < end; i++) {
            r.run();
        }
    }

    /** Seconds (median) of the differentiable and the fused Bi-WKV on (1, T, C). */
    public static double[] wkv(int tokens, int channels, int warmup, int runs, NDManager manager) {
        float[] k = random(tokens * channels, 2);
        float[] v = random(tokens * channels, 3);
        float[] w = random(channels, 4);
        float[] u = random(channels, 5);
        for (int i = 0; i < channels; i++) {
            w[i] = (w[i] - 0.5f) * 8 / tokens;
            u[i] = u[i] / tokens;
        }
        Shape s = new Shape(1, tokens, channels);
        Runnable differentiable = () -> {
            try (NDManager scope = manager.newSubManager()) {
                BiWkv.differentiable(scope.create(w), scope.create(u), scope.create(k, s), scope.create(v, s)).toFloatArray();
            }
        };
        float[] y = new float[k.length];
        int side = (int) Math.sqrt(tokens);
        boolean square = side * side == tokens;
        Runnable fusedRun = () -> BiWkv.fused(w, u, k, v, y, 1, square ? side : 1, square ? side : tokens, channels, false);
        warmFor(KERNEL_WARMUP_SECONDS, warmup, differentiable);
        warmFor(KERNEL_WARMUP_SECONDS, warmup, fusedRun);
        // alternating, so that a change in the machine's load between them affects both alike
        double[] diff = new double[runs];
        double[] fused = new double[runs];
        for (int i = 0; i < runs; i++) {
            diff[i] = time(0, 1, differentiable)[0];
            fused[i] = time(0, 1, fusedRun)[0];
        }
        Arrays.sort(diff);
        Arrays.sort(fused);
        return new double[] {median(diff), median(fused)};
    }

    /** Receives (restorations done, RSS in MB, of which the Java heap has committed heapMb). */
    public interface RssReport {
        void accept(int done, double rssMb, double heapMb);
    }

    /**
     * Restores one random (size, size) slice n times through {@link Restorer}, reporting RSS before
     * the first, after the first, at each twentieth of the way and at the end: a leak shows as growth
     * that goes on after the warm-up. The first restorations raise RSS without leaking: the reusable
     * buffers are allocated, the JIT compiler's threads keep the native memory of their largest
     * compilations, glibc's heaps settle into the layout that the repeated allocations of libtorch
     * need, and the Java heap's young generation is touched page by page until its first collection.
     *
     * @return RSS in MB after each restoration (index i - 1 for restoration i)
     */
    public static double[] leak(ModelConfig config, int size, int n, NDManager manager, RssReport report) {
        RestoreRwkv model = RestoreRwkv.create(config, manager, 0);
        Restorer restorer = new Restorer(model, manager, 1);
        HostTensor slice = new HostTensor(new long[] {size, size}, random(size * size, 1));
        report.accept(0, rssMb(), heapMb());
        int step = Math.max(1, n / 20);
        double[] rss = new double[n];
        for (int i = 1; i <= n; i++) {
            restorer.restore(slice);
            rss[i - 1] = rssMb();
            if (i == 1 || i % step == 0 || i == n) {
                report.accept(i, rss[i - 1], heapMb());
            }
        }
        return rss;
    }

    /**
     * One line on RSS after restorations from..rss.length (1-based; rss[i - 1] after restoration i):
     * after the first of them, the lowest, the highest and the last, and the spread (highest - lowest)
     * and change (last - first) as percentages of the first.
     */
    public static String leakSummary(double[] rss, int from) {
        if (from < 1 || from > rss.length) {
            throw new IllegalArgumentException("restoration " + from + " is outside 1.." + rss.length);
        }
        double[] r = Arrays.copyOfRange(rss, from - 1, rss.length);
        double lo = Arrays.stream(r).min().orElse(Double.NaN);
        double hi = Arrays.stream(r).max().orElse(Double.NaN);
        double first = r[0];
        double last = r[r.length - 1];
        return String.format(Locale.ROOT, "RSS over restorations %d..%d: first %.0f, lowest %.0f, highest %.0f, last %.0f MB;"
                + " spread %.1f%%, change %+.1f%% of the first", from, rss.length, first, lo, hi, last,
                100 * (hi - lo) / first, 100 * (last - first) / first);
    }

    /** Peak resident set size of this process (VmHWM), in MB; NaN where /proc is absent. */
    public static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D+", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    /** Memory the Java heap has committed (not all of it need be resident), in MB. */
    public static double heapMb() {
        return Runtime.getRuntime().totalMemory() / (1024.0 * 1024.0);
    }

    /** Current resident set size (VmRSS), in MB. */
    public static double rssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D+", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    /**
     * The command line that starts this JVM again (same java, JVM options and class path) with
     * {@code mainClass}: the fresh processes of cold-start and memory measurements. Leaves out a
     * class-data archive being written at exit (only the launcher's first run writes one).
     */
    public static List<String> javaCommand(String mainClass) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-XX:ArchiveClassesAtExit") && !a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        return cmd;
    }

    /**
     * Runs {@code cmd} as a fresh process and returns its wall time in seconds, from start to exit.
     * Its output goes to {@code log} (overwritten).
     *
     * @throws IllegalStateException when it fails, with the last lines of its output
     */
    public static double runProcess(List<String> cmd, Path log) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        long t0 = System.nanoTime();
        Process p = pb.start();
        int rc = p.waitFor();
        double s = (System.nanoTime() - t0) / 1e9;
        if (rc != 0) {
            List<String> lines = Files.readAllLines(log);
            throw new IllegalStateException("a benchmark process failed (exit " + rc + "): "
                    + String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size())));
        }
        return s;
    }

    /** Median, lowest and highest of n fresh-process wall times, in seconds. */
    public record Cold(int size, double medianS, double minS, double maxS, double[] runsS) {}

    /**
     * Cold start: n fresh processes each running {@code cmd} (a restore of one slice end to end, the
     * JVM's start included), timed from start to exit.
     */
    public static Cold cold(int size, List<String> cmd, int n, Path log) throws IOException, InterruptedException {
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            t[i] = runProcess(cmd, log);
        }
        double[] sorted = t.clone();
        Arrays.sort(sorted);
        return new Cold(size, median(sorted), sorted[0], sorted[n - 1], t);
    }

    /**
     * Measured and estimated memory of one inference pass over batch slices of size x size, MB:
     * the rise of peak RSS, and of the Java heap the process keeps after a full collection (the
     * reusable activation buffers, sized by the widest pass).
     */
    public record Memory(int size, int batch, double peakRssMb, double retainedHeapMb, double estimatedMb) {}

    /**
     * One slice size in this process: restores {@code batch} random slices of {@code size x size}
     * whole {@code passes} times and returns {peak resident memory (VmHWM), heap used after a full
     * collection} in MB. Run it in a fresh process per size ({@link #memory}), since the peak only grows.
     */
    public static double[] memoryProbe(ModelConfig config, int size, int batch, int passes, NDManager manager) {
        RestoreRwkv model = RestoreRwkv.create(config, manager, 0);
        Restorer restorer = new Restorer(model, manager, batch, 0, 0);
        HostTensor x = new HostTensor(new long[] {batch, size, size}, random(batch * size * size, 1));
        for (int i = 0; i < passes; i++) {
            restorer.restore(x);
        }
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return new double[] {peakRssMb(), (rt.totalMemory() - rt.freeMemory()) / (1024.0 * 1024.0)};
    }

    /**
     * Peak memory of a pass against {@link MemoryEstimate#passBytes}: for each size a fresh process
     * ({@code probe} + the size) reports its peak RSS, and the pass's share is that minus the peak of
     * a process that restored a {@value #BASE_SIZE} x {@value #BASE_SIZE} slice (JVM, libtorch, model).
     */
    public static List<Memory> memory(ModelConfig config, int[] sizes, int batch, List<String> probe, Path log,
                                      Consumer<Memory> report) throws IOException, InterruptedException {
        double[] base = probePeak(probe, BASE_SIZE, log);
        List<Memory> out = new ArrayList<>();
        for (int s : sizes) {
            double[] peak = probePeak(probe, s, log);
            Memory m = new Memory(s, batch, peak[0] - base[0], peak[1] - base[1],
                    MemoryEstimate.passBytes(config, batch, s, s) / (1024.0 * 1024.0));
            report.accept(m);
            out.add(m);
        }
        return out;
    }

    /** Slice side of the baseline process of {@link #memory}. */
    static final int BASE_SIZE = 16;

    /** Prefix of the line in which {@link #memoryProbe}'s process reports its peak RSS and retained heap. */
    public static final String PEAK_LINE = "peak_rss_mb ";

    private static double[] probePeak(List<String> probe, int size, Path log) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(probe);
        cmd.add(Integer.toString(size));
        runProcess(cmd, log);
        for (String line : Files.readAllLines(log)) {
            if (line.startsWith(PEAK_LINE)) {
                String[] f = line.substring(PEAK_LINE.length()).trim().split(" ");
                return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1])};
            }
        }
        throw new IllegalStateException("the memory probe printed no '" + PEAK_LINE.trim() + "' line");
    }

    /** Least-squares slope of log(time) against log(pixels): 1 means linear in pixels. */
    public static double scalingExponent(List<Result> results) {
        List<double[]> pts = new ArrayList<>();
        for (Result r : results) {
            pts.add(new double[] {Math.log((double) r.size() * r.size()), Math.log(r.medianS())});
        }
        if (pts.size() < 2) {
            return Double.NaN;
        }
        double mx = pts.stream().mapToDouble(p -> p[0]).average().orElse(0);
        double my = pts.stream().mapToDouble(p -> p[1]).average().orElse(0);
        double num = 0;
        double den = 0;
        for (double[] p : pts) {
            num += (p[0] - mx) * (p[1] - my);
            den += (p[0] - mx) * (p[0] - mx);
        }
        return num / den;
    }

    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextDouble();
        }
        return a;
    }

    /** Runs each measurement and reports it as it finishes. */
    public static List<Result> sweep(String name, ModelConfig config, int[] sizes, int batch, boolean train,
                                     boolean checkpointing, int warmup, int runs, Step step, NDManager manager,
                                     Consumer<Result> report) {
        List<Result> out = new ArrayList<>();
        for (int s : sizes) {
            Result r = model(name, config, s, batch, train, checkpointing, warmup, runs, step, manager);
            report.accept(r);
            out.add(r);
        }
        return out;
    }
}
