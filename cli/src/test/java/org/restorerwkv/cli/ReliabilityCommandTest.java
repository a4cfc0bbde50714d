package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.TestResources;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.Npy;
import picocli.CommandLine;

/**
 * The error policy (one line naming the path, outputs checked before the model, bugs called bugs),
 * non-finite refusals, per-scan folder restores and repeatable results.
 */
class ReliabilityCommandTest {

    @TempDir Path dir;

    private static final String TINY = "parity/tiny-32x32/";

    private record Run(int rc, String out, String err) {}

    private static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
        try {
            int rc = Main.run(args);
            return new Run(rc, out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static void oneLine(Run r, String command, String path, String problem) {
        assertEquals(1, r.rc(), r.err());
        List<String> lines = r.err().strip().lines().toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.get(0).startsWith("restore-rwkv " + command + ": " + path + ": "), r.err());
        assertTrue(lines.get(0).contains(problem), r.err());
    }

    private Path npy(String name, float... values) throws Exception {
        Path p = dir.resolve(name);
        Npy.write(p, new HostTensor(new long[] {1, 1, values.length}, values));
        return p;
    }

    @Test
    void outputsAreCheckedBeforeTheModelLoads() throws Exception {
        Path in = TestResources.path(TINY + "input.npy");
        Path file = Files.writeString(dir.resolve("plain"), "x");
        Path under = file.resolve("out.npy");
        // the weights do not exist either: the output's problem is found first
        oneLine(run("restore", "--weights", "/no/such.pth", "--input", in.toString(), "--output", under.toString()),
                "restore", under.toString(), "is a file, not a directory");
        Path folder = Files.createDirectory(dir.resolve("taken.nii"));
        oneLine(run("convert", "--input", in.toString(), "--output", folder.toString()), "convert", folder.toString(),
                "is a directory");
        oneLine(run("convert", "--input", dir.resolve("absent.nii").toString(), "--output", dir.resolve("o.nii").toString()),
                "convert", dir.resolve("absent.nii").toString(), "no such file");
        assertFalse(Files.exists(dir.resolve("o.nii")));
    }

    @Test
    void convertRefusesNonFiniteVoxelsUnlessAllowed() throws Exception {
        Path in = npy("nan.npy", 1f, Float.NaN, Float.POSITIVE_INFINITY, 2f);
        Path out = dir.resolve("out.nii");
        oneLine(run("convert", "--input", in.toString(), "--output", out.toString()), "convert", in.toString(),
                "2 voxel(s) are NaN or infinite; --allow-nonfinite writes them anyway");
        assertFalse(Files.exists(out));
        assertEquals(0, run("convert", "--input", in.toString(), "--output", out.toString(), "--allow-nonfinite").rc());
        assertTrue(Files.exists(out));
    }

    @Test
    void evalRefusesInfinityAsItRefusesNaN() throws Exception {
        Path ok = npy("ok.npy", 1f, 2f, 3f, 4f);
        for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN}) {
            Path p = npy("bad.npy", 1f, bad, 3f, 4f);
            String problem = Float.isNaN(bad) ? "NaN" : "1 voxel(s) are NaN or infinite";
            oneLine(run("eval", "--pred", p.toString(), "--target", ok.toString(), "--modality", "ct"), "eval", p.toString(),
                    problem);
            oneLine(run("eval", "--pred", ok.toString(), "--target", p.toString(), "--modality", "ct"), "eval", p.toString(),
                    problem);
        }
    }

    @Test
    void programmingErrorsAreReportedAsInternalErrorsWithTheTraceOnDebug() {
        CommandLine cl = new CommandLine(new Main());
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int rc = Main.handle(new IllegalStateException("invariant broken"), cl, false);
        assertEquals(Main.INTERNAL_ERROR, rc);
        assertTrue(err.toString().startsWith("restore-rwkv: internal error: java.lang.IllegalStateException:"
                + " invariant broken (a bug"), err.toString());
        assertEquals(1, err.toString().strip().lines().count());
        StringWriter debug = new StringWriter();
        cl.setErr(new PrintWriter(debug));
        Main.handle(new java.io.UncheckedIOException(new java.nio.file.AccessDeniedException("x.nii")), cl, true);
        assertTrue(debug.toString().startsWith("restore-rwkv: x.nii: permission denied\n"), debug.toString());
        assertTrue(debug.toString().contains("\tat "), "--debug prints the trace: " + debug);
    }

    @Test
    void aFolderRestoreIsAllOrNothingPerScanWithASummary() throws Exception {
        Path in = Files.createDirectory(dir.resolve("in"));
        Path tiny = TestResources.path(TINY + "input.npy");
        Files.copy(tiny, in.resolve("a.npy"));
        Files.write(in.resolve("b.npy"), java.util.Arrays.copyOf(Files.readAllBytes(tiny), 150));
        Files.copy(tiny, in.resolve("c.npy"));
        Path out = dir.resolve("out");
        Run r = run("restore", "--weights", TestResources.path(TINY + "weights.pth").toString(), "--modality", "none",
                "--input", in.toString(), "--output", out.toString(), "--quiet");
        assertEquals(1, r.rc(), r.err());
        assertTrue(Files.isRegularFile(out.resolve("a.npy")) && Files.isRegularFile(out.resolve("c.npy")), r.err());
        assertFalse(Files.exists(out.resolve("b.npy")));
        try (var s = Files.list(out)) {
            assertEquals(2, s.count(), "no temporary files left");
        }
        assertTrue(r.err().contains("restore-rwkv restore: " + in.resolve("b.npy") + ": truncated"), r.err());
        assertTrue(r.err().contains("restored 2 of 3 scan(s)"), r.err());
        assertTrue(r.err().contains("1 of 3 scan(s) failed (" + in.resolve("b.npy") + ") and have no output"), r.err());
    }

    /** restore in two fresh JVMs (the JIT compiles the kernels at different moments in each). */
    @Test
    void restoreSimulateAndEvalGiveIdenticalBytesAcrossRuns() throws Exception {
        float[] v = new float[2 * 48 * 40];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (40 + 300 * Math.sin(i * 0.37) + (i % 13) * 20);
        }
        Path scan = dir.resolve("scan.npy");
        Npy.write(scan, new HostTensor(new long[] {2, 48, 40}, v));
        List<byte[]> restored = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
            Path out = dir.resolve("restored" + k + ".npy");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dai.djl.offline=true", "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "restore", "--input", scan.toString(), "--output", out.toString(),
                    "--modality", "ct", "--threads", "2", "--quiet"));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log" + k).toFile()).start();
            assertTrue(p.waitFor(5, TimeUnit.MINUTES), "restore did not finish");
            assertEquals(0, p.exitValue(), Files.readString(dir.resolve("log" + k)));
            restored.add(Files.readAllBytes(out));
        }
        assertArrayEquals(restored.get(0), restored.get(1), "two restore runs differ");

        List<byte[]> simulated = new ArrayList<>();
        List<String> metrics = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
            Path out = dir.resolve("sim" + k + ".nii");
            assertEquals(0, run("simulate", "--task", "ct-lowdose", "--dose", "0.25", "--seed", "3", "--input",
                    scan.toString(), "--output", out.toString()).rc());
            simulated.add(Files.readAllBytes(out));
            Path pred = Files.copy(out, dir.resolve("pred.nii"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Path csv = dir.resolve("eval" + k + ".csv");
            Run e = run("eval", "--pred", pred.toString(), "--target", scan.toString(), "--modality", "ct", "--report",
                    csv.toString());
            assertEquals(0, e.rc(), e.err());
            metrics.add(e.out() + Files.readString(csv));
        }
        assertArrayEquals(simulated.get(0), simulated.get(1), "two simulate runs differ");
        assertEquals(metrics.get(0), metrics.get(1), "two eval runs differ");
    }
}
