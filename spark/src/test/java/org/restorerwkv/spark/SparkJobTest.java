package org.restorerwkv.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job on real Spark: in local mode with two task slots, and on a standalone cluster on
 * loopback (a Master and two one-core Workers started here from Spark's own classes), where one
 * Worker is killed mid-job. Every output must equal the restore command's on the same input, the
 * corrupt scan must be a failed row with restore's line, and a re-run must restore nothing.
 * Every task runs one thread, as the references do.
 */
class SparkJobTest {

    @TempDir
    static Path tmp;

    static Archive archive;

    private final List<Process> started = new ArrayList<>();

    @BeforeAll
    static void archive() throws IOException {
        archive = new Archive(tmp, 4, 2);
    }

    @AfterAll
    static void noContextLeft() {
        archive = null;
    }

    @Test
    void localModeRestoresLikeRestoreAndReRunsDoNothing() throws IOException {
        Path out = tmp.resolve("out-local");
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("restore-rwkv-test")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            List<ScanResult> rows = RestoreJob.run(sc, "--manifest", archive.manifest.toString(), "--output",
                    out.toString(), "--modality", "ct", "--results", out.resolve("_results.jsonl").toString());
            assertRows(rows, ScanResult.RESTORED);
            archive.assertOutputsMatch(out);
            assertTrue(Files.readString(out.resolve("_results.jsonl")).contains("\"status\":\"failed\""));
            assertEquals(rows.size(), Files.readAllLines(out.resolve("_results.jsonl")).size());
            assertOnlyOutputs(out, "_results.jsonl");

            Map<String, FileTime> before = times(out);
            List<ScanResult> again = RestoreJob.run(sc, "--manifest", archive.manifest.toString(), "--output",
                    out.toString(), "--modality", "ct", "--results", out.resolve("_results.jsonl").toString());
            assertRows(again, ScanResult.SKIPPED);
            before.remove("_results.jsonl");
            Map<String, FileTime> after = times(out);
            after.remove("_results.jsonl");
            assertEquals(before, after, "a re-run rewrites nothing");
        }
    }

    @Test
    void standaloneClusterSurvivesALostWorker() throws Exception {
        Path out = tmp.resolve("out-cluster");
        try {
            String master = startMaster();
            List<Process> workers = startWorkers(master, 2);
            Process keep = workers.get(0);
            Process doomed = workers.get(1);
            SparkConf conf = new SparkConf().setMaster(master).setAppName("restore-rwkv-cluster-test")
                    .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                    .set("spark.driver.bindAddress", "127.0.0.1").set("spark.executor.memory", "1g")
                    .set("spark.executor.cores", "1").set("spark.cores.max", "2")
                    .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                    .set("spark.executor.extraJavaOptions", Submit.EXECUTOR_JAVA_OPTIONS
                            + " -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1");
            try (JavaSparkContext sc = new JavaSparkContext(conf)) {
                String[] args = {"--manifest", archive.manifest.toString(), "--output", out.toString(), "--modality", "ct"};
                CompletableFuture<List<ScanResult>> job = CompletableFuture.supplyAsync(() -> {
                    try {
                        return RestoreJob.run(sc, args);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                awaitFirstOutput(out, job);
                // a lost machine: the Worker and the executor it runs die at once
                doomed.descendants().forEach(ProcessHandle::destroyForcibly);
                doomed.destroyForcibly();
                assertTrue(doomed.waitFor(60, TimeUnit.SECONDS));
                assertFalse(job.isDone(), "the Worker was killed while the job still ran");
                List<ScanResult> rows = job.get(5, TimeUnit.MINUTES);
                assertRows(rows, null);
                archive.assertOutputsMatch(out);
                assertOnlyOutputs(out, RestoreJob.DEFAULT_RESULTS);

                Map<String, FileTime> before = times(out);
                List<ScanResult> again = RestoreJob.run(sc, args);
                assertRows(again, ScanResult.SKIPPED);
                before.remove(RestoreJob.DEFAULT_RESULTS);
                Map<String, FileTime> after = times(out);
                after.remove(RestoreJob.DEFAULT_RESULTS);
                assertEquals(before, after, "a re-run rewrites nothing");
                assertTrue(keep.isAlive());
            }
        } catch (Throwable t) {
            try (Stream<Path> logs = Files.list(tmp)) {
                for (Path log : logs.filter(p -> p.toString().endsWith(".log")).toList()) {
                    List<String> lines = Files.readAllLines(log);
                    System.err.println("---- " + log.getFileName() + "\n"
                            + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
                }
            }
            throw t;
        } finally {
            for (Process p : started) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroy();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** One row per manifest entry, in its order; the corrupt scan failed with restore's line. */
    private static void assertRows(List<ScanResult> rows, String status) {
        List<String> rels = new ArrayList<>(archive.expected.keySet());
        assertEquals(rels.size(), rows.size());
        for (int i = 0; i < rows.size(); i++) {
            ScanResult r = rows.get(i);
            String rel = rels.get(i);
            assertTrue(r.input().endsWith("/archive/" + rel), r.input());
            assertTrue(r.output().endsWith("/" + rel), r.output());
            if (rel.equals(archive.corrupt)) {
                assertEquals(ScanResult.FAILED, r.status());
                assertEquals(archive.corruptLine.replace(archive.inputs.resolve(rel).toString(), r.input()), r.error());
            } else if (status != null) {
                assertEquals(status, r.status(), r.toString());
                assertEquals(status.equals(ScanResult.RESTORED) ? expectedSlices(rel) : 0, r.slices(), r.toString());
            } else {
                // a scan in flight on the lost Worker may have been completed by its first attempt
                assertTrue(r.status().equals(ScanResult.RESTORED) || r.status().equals(ScanResult.SKIPPED), r.toString());
                assertEquals("", r.error());
            }
        }
    }

    private static int expectedSlices(String rel) {
        return rel.startsWith("p3/") ? 2 : rel.equals("p2/mr.npy") ? 2 : 3;
    }

    /** The outputs and the table, nothing partial, temporary or duplicated. */
    private static void assertOnlyOutputs(Path out, String table) throws IOException {
        List<String> want = new ArrayList<>();
        want.add(table);
        for (Map.Entry<String, Path> e : archive.expected.entrySet()) {
            if (e.getValue() != null && Files.isDirectory(e.getValue())) {
                try (Stream<Path> s = Files.list(e.getValue())) {
                    s.forEach(f -> want.add(e.getKey() + "/" + f.getFileName()));
                }
            } else if (e.getValue() != null) {
                want.add(e.getKey());
            }
        }
        assertEquals(want.stream().sorted().toList(), Archive.listing(out));
    }

    private static Map<String, FileTime> times(Path out) throws IOException {
        Map<String, FileTime> m = new LinkedHashMap<>();
        for (String f : Archive.listing(out)) {
            m.put(f, Files.getLastModifiedTime(out.resolve(f)));
        }
        return m;
    }

    /** Polls the output root until an output has its final name (bounded; fails if the job ends first). */
    private static void awaitFirstOutput(Path out, CompletableFuture<?> job) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (System.nanoTime() < deadline && !job.isDone()) {
            for (String rel : archive.expected.keySet()) {
                if (Files.exists(out.resolve(rel))) {
                    return;
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        if (job.isDone()) {
            job.join(); // the job's own failure, if it failed
        }
        throw new AssertionError("no output appeared while the job ran" + (job.isDone() ? " (it ended)" : ""));
    }

    private String startMaster() throws IOException, InterruptedException {
        Pattern url = Pattern.compile("Starting Spark master at (spark://127\\.0\\.0\\.1:\\d+)");
        return startMasterAndWait(url);
    }

    /** Starts {@code n} Workers at once and waits until each has registered with the Master. */
    private List<Process> startWorkers(String master, int n) throws IOException, InterruptedException {
        Path home = Files.createDirectories(tmp.resolve("spark-home/jars")).getParent();
        List<CountDownLatch> ready = new ArrayList<>();
        List<Process> workers = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            Path work = Files.createDirectories(tmp.resolve("worker-" + i));
            // Spark's executor launcher looks for SPARK_HOME/jars; the executors' classes come from
            // spark.executor.extraClassPath (this JVM's class path)
            CountDownLatch seen = new CountDownLatch(1);
            workers.add(launch("org.apache.spark.deploy.worker.Worker", List.of("--host", "127.0.0.1", "--cores", "1",
                    "--memory", "1536m", "--webui-port", "0", "--work-dir", work.toString(), master),
                    Map.of("SPARK_HOME", home.toString(), "SPARK_SCALA_VERSION", "2.13"),
                    Pattern.compile("(Successfully registered with master)"), "worker-" + i, seen, new AtomicReference<>()));
            ready.add(seen);
        }
        for (int i = 0; i < n; i++) {
            await(ready.get(i), "worker-" + (i + 1));
        }
        return workers;
    }

    private String startMasterAndWait(Pattern url) throws IOException, InterruptedException {
        CountDownLatch seen = new CountDownLatch(1);
        AtomicReference<String> match = new AtomicReference<>();
        launch("org.apache.spark.deploy.master.Master", List.of("--host", "127.0.0.1", "--port", "0", "--webui-port", "0"),
                Map.of(), url, "master", seen, match);
        await(seen, "master");
        return match.get();
    }

    private static void await(CountDownLatch seen, String name) throws IOException, InterruptedException {
        if (!seen.await(3, TimeUnit.MINUTES)) {
            throw new AssertionError(name + " did not start; its log: " + Files.readString(tmp.resolve(name + ".log")));
        }
    }

    /**
     * Starts a Spark daemon with this JVM's class path; {@code seen} counts down at its first line
     * matching {@code ready}, whose group 1 goes to {@code match}. Its output goes to NAME.log.
     */
    private Process launch(String mainClass, List<String> args, Map<String, String> env, Pattern ready, String name,
            CountDownLatch seen, AtomicReference<String> match) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("-Dio.netty") || a.startsWith("-Djdk.reflect")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        Process p = pb.start();
        started.add(p);
        Path log = tmp.resolve(name + ".log");
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    Files.writeString(log, line + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                            java.nio.file.StandardOpenOption.APPEND);
                    Matcher m = ready.matcher(line);
                    if (seen.getCount() > 0 && m.find()) {
                        match.set(m.group(1));
                        seen.countDown();
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        }, name + "-log");
        reader.setDaemon(true);
        reader.start();
        return p;
    }
}
