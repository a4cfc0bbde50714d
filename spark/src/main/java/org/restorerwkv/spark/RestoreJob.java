package org.restorerwkv.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.restorerwkv.api.RestorationModel;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The Spark job: restores every scan of a manifest or a folder into an output root, one scan per
 * task, and writes the results table. See docs/spark.md for the spark-submit line, the table and
 * what happens on failures and re-runs.
 */
@Command(name = "restore-rwkv spark", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Restore every scan of a manifest or a folder on a Spark cluster. Inputs and",
            "outputs are paths or URIs on any Hadoop file system (local, hdfs://, s3a://).",
            "Each output keeps its input's relative path and format under OUT; scans whose",
            "output exists are skipped. Exit status 1 when a scan failed (its row in the",
            "results table says why)."})
public final class RestoreJob implements Callable<Integer> {

    /** The job's temporary folder under the output root; outputs are renamed out of it when complete. */
    public static final String TEMP_FOLDER = "_restore-tmp";
    /** The results table's default name under the output root. */
    public static final String DEFAULT_RESULTS = "_restore-results.csv";

    static final class Source {
        @Option(names = "--manifest", paramLabel = "FILE",
                description = "Text file with one scan path or URI a line, or a .csv whose first column is the path.")
        String manifest;

        @Option(names = "--input-dir", paramLabel = "DIR", description = "Folder to walk for scans (DICOM series folders and files).")
        String inputDir;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--output", required = true, paramLabel = "OUT", description = "Output root.")
    String output;

    @Option(names = "--base", paramLabel = "DIR",
            description = "Absolute manifest entries keep their path relative to this folder (default: their whole path).")
    String base;

    @Option(names = "--results", paramLabel = "FILE",
            description = "Results table, CSV or (.jsonl) JSON lines (default: OUT/" + DEFAULT_RESULTS + ").")
    String results;

    @Option(names = "--weights", paramLabel = "FILE|builtin:NAME",
            description = "Model weights (default: the built-in all-in-one-light). A file must be readable by every executor.")
    String weights;

    @Option(names = "--modality", defaultValue = "auto", paramLabel = "ct|mri|pet|none|auto",
            description = "As restore --modality (default: ${DEFAULT-VALUE}).")
    String modality;

    @Option(names = "--axis", defaultValue = "0", paramLabel = "0|1|2", description = "Slice axis (default: ${DEFAULT-VALUE}).")
    int axis;

    @Option(names = "--batch", defaultValue = "4", paramLabel = "N", description = "Slices per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--tile", defaultValue = "auto", paramLabel = "auto|PX",
            description = "As restore: auto tiles only where a slice does not fit the memory budget; PX tiles slices"
                    + " larger than PX; 0 = never tile (default: ${DEFAULT-VALUE}).")
    String tile;

    @Option(names = "--overlap", defaultValue = "32", paramLabel = "PX", description = "Tile overlap (default: ${DEFAULT-VALUE}).")
    int overlap;

    @Option(names = "--partitions", paramLabel = "N", description = "Tasks (default: one per scan).")
    Integer partitions;

    /** spark-submit's entry point: runs the job in a new Spark context and exits with its status. */
    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new RestoreJob());
        cl.setExecutionExceptionHandler((e, c, pr) -> {
            Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
            c.getErr().println("restore-rwkv spark: " + (t.getMessage() == null ? t.getClass().getName() : t.getMessage()));
            c.getErr().flush();
            return 1;
        });
        int code = cl.execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    @Override
    public Integer call() throws IOException {
        SparkConf conf = new SparkConf().setAppName("restore-rwkv");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            List<ScanResult> rows = run(sc);
            return rows.stream().anyMatch(r -> r.status().equals(ScanResult.FAILED)) ? 1 : 0;
        }
    }

    /**
     * Runs the job given as command-line arguments in an existing Spark context and returns the
     * results table's rows (also written to the table), in the order of the manifest or the walk.
     */
    public static List<ScanResult> run(JavaSparkContext sc, String... args) throws IOException {
        RestoreJob job = new RestoreJob();
        CommandLine.ParseResult pr = new CommandLine(job).parseArgs(args);
        if (pr.isUsageHelpRequested() || pr.isVersionHelpRequested()) {
            throw new IllegalArgumentException("--help is for the command line");
        }
        return job.run(sc);
    }

    private List<ScanResult> run(JavaSparkContext sc) throws IOException {
        if (axis < 0 || axis > 2) {
            throw new IllegalArgumentException("--axis must be 0, 1 or 2, got " + axis);
        }
        Configuration hadoop = sc.hadoopConfiguration();
        Path root = qualified(new Path(output), hadoop);
        List<Scan> scans;
        if (source.manifest != null) {
            scans = Inputs.fromManifest(new Path(source.manifest), base, hadoop);
        } else {
            Path in = qualified(new Path(source.inputDir), hadoop);
            String r = root.toString() + "/";
            if (r.startsWith(in.toString() + "/")) {
                throw new IOException(output + ": the output root may not lie inside the input folder");
            }
            scans = Inputs.fromFolder(in, hadoop);
        }
        for (Scan s : scans) {
            if (qualified(new Path(s.input()), hadoop).equals(new Path(root, s.relative()))) {
                throw new IOException(s.input() + ": the output would overwrite the input");
            }
        }
        String spec = weights == null ? RestorationModel.defaultWeights() : weights;
        Path temp = new Path(root, TEMP_FOLDER);
        Map<String, String> settings = new TreeMap<>();
        for (Map.Entry<String, String> e : hadoop) {
            settings.put(e.getKey(), e.getValue());
        }
        JobOptions o = new JobOptions(spec, modality, axis, batch,
                tile.equalsIgnoreCase("auto") ? org.restorerwkv.infer.Restorer.AUTO : Integer.parseInt(tile.trim()), overlap, root.toString(),
                new Path(temp, sc.sc().applicationId()).toString(), settings);
        Broadcast<JobOptions> options = sc.broadcast(o);
        int tasks = Math.max(1, Math.min(scans.size(), partitions == null ? scans.size() : partitions));
        long t0 = System.nanoTime();
        List<ScanResult> rows = sc.parallelize(scans, tasks).map(s -> {
            TaskContext tc = TaskContext.get();
            return ScanRestore.run(s, options.value(), tc.cpus(), "task-" + tc.taskAttemptId());
        }).collect();
        double seconds = (System.nanoTime() - t0) / 1e9;
        // every task has ended: what is left in the temporary folder is a lost attempt's partial copy
        FileSystem fs = ScanRestore.fileSystem(temp, hadoop);
        fs.delete(temp, true);
        Path table = results == null ? new Path(root, DEFAULT_RESULTS) : qualified(new Path(results), hadoop);
        ResultsTable.write(table, rows, hadoop);
        report(rows, seconds, table);
        return rows;
    }

    private static void report(List<ScanResult> rows, double seconds, Path table) {
        int restored = 0;
        int skipped = 0;
        int failed = 0;
        long slices = 0;
        for (ScanResult r : rows) {
            switch (r.status()) {
                case ScanResult.RESTORED -> restored++;
                case ScanResult.SKIPPED -> skipped++;
                default -> {
                    failed++;
                    System.err.println(r.error());
                }
            }
            slices += r.slices();
        }
        System.err.printf(Locale.ROOT, "restore-rwkv spark: %d scan(s): %d restored, %d skipped (complete), %d failed;"
                + " %d slice(s) in %.1f s (%.2f slices/s); table -> %s%n",
                rows.size(), restored, skipped, failed, slices, seconds, slices / seconds, table);
    }

    private static Path qualified(Path p, Configuration conf) throws IOException {
        return p.getFileSystem(conf).makeQualified(p);
    }
}
