package org.restorerwkv.cli;

import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.restorerwkv.bench.Bench;
import org.restorerwkv.io.AtomicFiles;
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

    @Override
    public Integer call() throws Exception {
        ModelOptions.applyThreads(threads); // read by the PyTorch engine when it starts, which is below
        if (repeat < 1 || warmup < 0 || batch < 1) {
            throw new IllegalArgumentException("--repeat >= 1, --warmup >= 0 and --batch >= 1 required");
        }
        try (NDManager manager = NDManager.newBaseManager()) {
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
                root.put("scaling_exponent", exp);
                AtomicFiles.write(json, new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
                        .create().toJson(root).getBytes());
            }
        }
        return 0;
    }
}
