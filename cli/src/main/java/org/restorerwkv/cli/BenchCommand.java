package org.restorerwkv.cli;

import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.restorerwkv.bench.Bench;
import org.restorerwkv.bench.StageProfile;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.io.AtomicFiles;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.Npy;
import org.restorerwkv.model.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Speed and memory of the model and its kernels on this machine. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark inference (and with --train, training steps) on random slices; --wkv times the Bi-WKV kernels.")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--config", defaultValue = "light", paramLabel = "NAME|FILE", description = "default, light or a JSON file (default: ${DEFAULT-VALUE}).")
    String config;

    @Option(names = "--sizes", defaultValue = "128,256", split = ",", paramLabel = "N,N", description = "Square slice sizes (default: ${DEFAULT-VALUE}).")
    int[] sizes;

    @Option(names = "--batch", defaultValue = "1", description = "Slices per pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--train", description = "Time training steps (forward, L1, backward) instead of inference.")
    boolean train;

    @Option(names = "--checkpointing", description = "With --train: gradient checkpointing of the RWKV blocks.")
    boolean checkpointing;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for libtorch and the fused kernels (default: all cores).")
    Integer threads;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed runs first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--repeat", defaultValue = "5", description = "Timed runs (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    @Option(names = "--wkv", description = "Time the differentiable vs the fused Bi-WKV on (1, T, C) instead.")
    boolean wkv;

    @Option(names = "--tokens", defaultValue = "65536", description = "T for --wkv (default: ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--channels", defaultValue = "48", description = "C for --wkv (default: ${DEFAULT-VALUE}).")
    int channels;

    @Option(names = "--leak", paramLabel = "N", description = "Restore one slice of the first size N times after the --leak-warmup ones and report resident memory (RSS) along the way.")
    Integer leak;

    @Option(names = "--leak-warmup", paramLabel = "W", defaultValue = "100",
            description = "Restorations before the N of --leak, while RSS settles (default: ${DEFAULT-VALUE}); both are summarized.")
    int leakWarmup;

    @Option(names = "--cold", description = "Cold start: --repeat fresh processes, each a `restore` of one random CT slice"
            + " of each size (.npy, --weights, default the built-in light model) end to end; median and spread.")
    boolean cold;

    @Option(names = "--weights", paramLabel = "FILE|builtin:NAME", description = "Weights of the --cold restores (default: the built-in default model).")
    String weights;

    @Option(names = "--memory", description = "Memory of --repeat whole-slice passes per size, each size in a fresh process"
            + " (peak RSS, and Java heap kept after a full collection), against the estimate that --tile auto uses.")
    boolean memory;

    @Option(names = "--stages", description = "Profile whole-slice inference per size: wall time and GFLOP/s (against the"
            + " matmul peak) of each stage of the network, and the sampled share of each kind of kernel.")
    boolean stages;

    @Option(names = "--memory-probe", hidden = true, paramLabel = "SIZE", description = "Internal: one --memory process.")
    Integer memoryProbe;

    @Override
    public Integer call() throws Exception {
        ModelOptions.applyThreads(threads); // read by the PyTorch engine when it starts, which is below
        if (repeat < 1 || warmup < 0 || batch < 1) {
            throw new IllegalArgumentException("--repeat >= 1, --warmup >= 0 and --batch >= 1 required");
        }
        if (cold) {
            return cold();
        }
        if (memory) {
            return memory();
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            if (memoryProbe != null) {
                double[] m = Bench.memoryProbe(ModelConfig.resolve(config), memoryProbe, batch, repeat, manager);
                System.out.println(Bench.PEAK_LINE + m[0] + " " + m[1]);
                return 0;
            }
            int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
            if (wkv) {
                double[] t = Bench.wkv(tokens, channels, warmup, repeat, manager);
                System.out.printf(Locale.ROOT, "Bi-WKV (1, %d, %d), %d threads, median of %d:%n", tokens, channels, nThreads, repeat);
                System.out.printf(Locale.ROOT, "  differentiable (DJL ops)        : %8.2f ms%n", t[0] * 1e3);
                System.out.printf(Locale.ROOT, "  fused CPU kernel:                  %8.2f ms%n", t[1] * 1e3);
                System.out.printf(Locale.ROOT, "  speed-up: %.1fx%n", t[0] / t[1]);
                if (json != null) {
                    Map<String, Object> o = new LinkedHashMap<>();
                    o.put("tokens", tokens);
                    o.put("channels", channels);
                    o.put("differentiable_s", t[0]);
                    o.put("fused_s", t[1]);
                    AtomicFiles.write(json, new GsonBuilder().setPrettyPrinting().create().toJson(o).getBytes());
                }
                return 0;
            }
            ModelConfig c = ModelConfig.resolve(config);
            if (stages) {
                return stages(c, nThreads, manager);
            }
            if (leak != null) {
                if (leak < 1 || leakWarmup < 0) {
                    throw new IllegalArgumentException("--leak N needs N >= 1 and --leak-warmup W >= 0");
                }
                double[] rss = Bench.leak(c, sizes[0], leakWarmup + leak, manager, (i, r, heap) ->
                        System.out.printf(Locale.ROOT, "  restoration %5d: RSS %8.0f MB (Java heap committed %6.0f MB)%n",
                                i, r, heap));
                System.out.println("from the first:    " + Bench.leakSummary(rss, 1));
                if (leakWarmup > 0) {
                    System.out.println("after the warm-up: " + Bench.leakSummary(rss, leakWarmup + 1));
                }
                return 0;
            }
            double peak = Bench.matmulPeakGflops(manager, 1024);
            System.out.printf(Locale.ROOT, "config %s (%s), %s, batch %d, %d threads; matmul peak %.1f GFLOP/s%n",
                    config, c, train ? checkpointing ? "training step with gradient checkpointing" : "training step" : "inference",
                    batch, nThreads, peak);
            System.out.println("  size   median s    min s  main-thread CPU s   slices/s   GFLOP/s  %peak  peak RSS MB");
            List<Bench.Result> rs = Bench.sweep(config, c, sizes, batch, train, train && checkpointing, warmup, repeat, null, manager, r ->
                    System.out.printf(Locale.ROOT, "  %4d  %9.3f %8.3f %18.3f %10.2f %9.2f %5.0f%% %12.0f%n", r.size(), r.medianS(),
                            r.minS(), r.cpuS(), r.batch() / r.medianS(), r.gflops(), 100 * r.gflops() / peak, r.peakRssMb()));
            double exp = Bench.scalingExponent(rs);
            if (!Double.isNaN(exp)) {
                System.out.printf(Locale.ROOT, "  scaling: time ~ pixels^%.2f%n", exp);
            }
            if (json != null) {
                List<Map<String, Object>> list = new ArrayList<>();
                for (Bench.Result r : rs) {
                    Map<String, Object> o = new LinkedHashMap<>();
                    o.put("config", r.config());
                    o.put("size", r.size());
                    o.put("mode", r.mode());
                    o.put("batch", r.batch());
                    o.put("checkpointing", train && checkpointing);
                    o.put("median_s", r.medianS());
                    o.put("min_s", r.minS());
                    o.put("main_thread_cpu_s", r.cpuS());
                    o.put("gflops", r.gflops());
                    o.put("peak_rss_mb", r.peakRssMb());
                    list.add(o);
                }
                Map<String, Object> root = new LinkedHashMap<>();
                root.put("results", list);
                root.put("threads", nThreads);
                root.put("matmul_peak_gflops", peak);
                if (!Double.isNaN(exp)) { // one size has no exponent; NaN is not JSON
                    root.put("scaling_exponent", exp);
                }
                AtomicFiles.write(json, new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
                        .create().toJson(root).getBytes());
            }
        }
        return 0;
    }

    private int stages(ModelConfig c, int nThreads, NDManager manager) throws Exception {
        double peak = Bench.matmulPeakGflops(manager, 1024);
        System.out.printf(Locale.ROOT, "config %s (%s), inference by stage, batch 1, %d threads, median of %d passes;"
                + " matmul peak %.1f GFLOP/s%n", config, c, nThreads, repeat, peak);
        List<Map<String, Object>> list = new ArrayList<>();
        for (int size : sizes) {
            StageProfile.Result r = StageProfile.run(c, size, warmup, repeat, nThreads, manager);
            double total = r.totalSeconds();
            System.out.printf(Locale.ROOT, "%n  %dx%d: %.3f s, %.2f GFLOP/s (%.0f%% of peak)%n", size, size, total,
                    r.gflops(), 100 * r.gflops() / peak);
            System.out.println("  stage                  ms   share    GFLOP   GFLOP/s  %peak");
            List<Map<String, Object>> rows = new ArrayList<>();
            for (StageProfile.Stage st : r.stages()) {
                System.out.printf(Locale.ROOT, "  %-18s %8.1f %6.1f%% %8.3f %9.2f %5.0f%%%n", st.name(), st.seconds() * 1e3,
                        100 * st.seconds() / total, 2 * st.macs() / 1e9, st.gflops(), 100 * st.gflops() / peak);
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("stage", st.name());
                o.put("seconds", st.seconds());
                o.put("gflop", 2 * st.macs() / 1e9);
                rows.add(o);
            }
            StageProfile.Stage mm = r.matmuls();
            System.out.printf(Locale.ROOT, "  matmuls alone: %.1f ms (%.1f%% of the pass), %.3f GFLOP, %.2f GFLOP/s, %.0f%% of peak%n",
                    mm.seconds() * 1e3, 100 * mm.seconds() / total, 2 * mm.macs() / 1e9, mm.gflops(), 100 * mm.gflops() / peak);
            System.out.printf(Locale.ROOT, "  kernels (share of %d thread samples; libtorch's estimated, see docs/performance.md):%n", r.samples());
            r.kernelShares().forEach((k, v) -> System.out.printf(Locale.ROOT, "    %5.1f%%  %s%n", 100 * v, k));
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("size", size);
            o.put("seconds", total);
            o.put("stages", rows);
            o.put("matmul_seconds", mm.seconds());
            o.put("matmul_gflop", 2 * mm.macs() / 1e9);
            o.put("kernel_shares", r.kernelShares());
            list.add(o);
        }
        if (json != null) {
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("config", config);
            root.put("threads", nThreads);
            root.put("matmul_peak_gflops", peak);
            root.put("profiles", list);
            AtomicFiles.write(json, new GsonBuilder().setPrettyPrinting().create().toJson(root).getBytes());
        }
        return 0;
    }

    /** Options of this command that a child process repeats. */
    private List<String> childThreads() {
        return threads == null ? List.of() : List.of("--threads", threads.toString());
    }

    private int cold() throws Exception {
        Path dir = Files.createTempDirectory("restore-rwkv-cold");
        try {
            String w = weights != null ? weights : Weights.specOrDefault(null);
            System.out.printf(Locale.ROOT, "cold start: `restore` of one CT slice (.npy) with %s in %d fresh processes per size,"
                    + " %s threads%n", w, repeat, threads != null ? threads.toString() : "all");
            System.out.println("  size   median s    min s    max s   runs");
            List<Map<String, Object>> list = new ArrayList<>();
            for (int size : sizes) {
                Path in = dir.resolve("slice" + size + ".npy");
                float[] hu = new float[size * size];
                java.util.SplittableRandom r = new java.util.SplittableRandom(size);
                for (int i = 0; i < hu.length; i++) {
                    hu[i] = (float) (r.nextDouble() * 2000 - 1000);
                }
                Npy.write(in, new HostTensor(new long[] {size, size}, hu));
                List<String> cmd = new ArrayList<>(Bench.javaCommand(Main.class.getName()));
                cmd.addAll(List.of("restore", "--input", in.toString(), "--output", dir.resolve("out" + size + ".npy").toString(),
                        "--modality", "ct", "--quiet", "--weights", w));
                cmd.addAll(childThreads());
                Bench.Cold c = Bench.cold(size, cmd, repeat, dir.resolve("log.txt"));
                StringBuilder runs = new StringBuilder();
                for (double t : c.runsS()) {
                    runs.append(String.format(Locale.ROOT, " %.2f", t));
                }
                System.out.printf(Locale.ROOT, "  %4d  %9.3f %8.3f %8.3f  %s%n", size, c.medianS(), c.minS(), c.maxS(), runs.toString().trim());
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("size", size);
                o.put("weights", w);
                o.put("median_s", c.medianS());
                o.put("min_s", c.minS());
                o.put("max_s", c.maxS());
                o.put("runs_s", c.runsS());
                list.add(o);
            }
            writeJson(Map.of("cold", list));
            return 0;
        } finally {
            try (var s = Files.walk(dir)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private int memory() throws Exception {
        ModelConfig c = ModelConfig.resolve(config);
        Path log = Files.createTempFile("restore-rwkv-memory", ".log");
        try {
            List<String> probe = new ArrayList<>(Bench.javaCommand(Main.class.getName()));
            probe.addAll(List.of("bench", "--config", config, "--batch", Integer.toString(batch),
                    "--repeat", Integer.toString(repeat)));
            probe.addAll(childThreads());
            probe.add("--memory-probe");
            System.out.printf(Locale.ROOT, "config %s (%s), batch %d: peak memory of a whole-slice pass (fresh process per size,"
                    + " %d passes; rise over a 16 x 16 slice's process) vs the estimate of --tile auto%n", config, c, batch, repeat);
            System.out.println("  size  peak RSS MB  retained heap MB  estimated MB  estimated/retained");
            List<Map<String, Object>> list = new ArrayList<>();
            for (Bench.Memory m : Bench.memory(c, sizes, batch, probe, log, m ->
                    System.out.printf(Locale.ROOT, "  %4d  %11.0f  %16.0f  %12.0f  %18.2f%n", m.size(), m.peakRssMb(),
                            m.retainedHeapMb(), m.estimatedMb(), m.estimatedMb() / m.retainedHeapMb()))) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("size", m.size());
                o.put("batch", m.batch());
                o.put("peak_rss_mb", m.peakRssMb());
                o.put("retained_heap_mb", m.retainedHeapMb());
                o.put("estimated_mb", m.estimatedMb());
                list.add(o);
            }
            writeJson(Map.of("memory", list, "config", config));
            return 0;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private void writeJson(Object root) throws IOException {
        if (json != null) {
            AtomicFiles.write(json, new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
                    .create().toJson(root).getBytes());
        }
    }
}
