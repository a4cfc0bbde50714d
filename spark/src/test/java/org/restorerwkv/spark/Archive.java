package org.restorerwkv.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.restorerwkv.cli.Main;
import org.restorerwkv.io.Npy;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

/**
 * A tiny archive for the job's tests: scans of several formats in sub-folders (NIfTI, a DICOM
 * series folder, NPY) and one corrupt NIfTI, a manifest naming them, and for each scan what the
 * restore command makes of it (one thread, as every test task runs), to compare outputs with.
 */
final class Archive {

    final Path root;
    final Path inputs;
    final Path manifest;
    /** Relative path -> the restore command's output for it (null for the corrupt scan). */
    final Map<String, Path> expected = new LinkedHashMap<>();
    /** The corrupt scan's relative path and the line restore prints for it. */
    final String corrupt;
    final String corruptLine;

    /** {@code extraVolumes} more NIfTI volumes of {@code extraDepth} 32 x 32 slices each. */
    Archive(Path root, int extraVolumes, int extraDepth) throws IOException {
        this.root = root;
        this.inputs = Files.createDirectories(root.resolve("archive"));
        Random rnd = new Random(21);
        write("p1/ct.nii.gz", volume(rnd, 3, 48, 40));
        write("p1/series", volume(rnd, 3, 32, 32));
        Path npy = inputs.resolve("p2/mr.npy");
        Files.createDirectories(npy.getParent());
        Npy.write(npy, volume(rnd, 2, 40, 48).toHostTensor());
        for (int i = 0; i < extraVolumes; i++) {
            write(String.format("p3/vol%02d.nii", i), volume(rnd, extraDepth, 32, 32));
        }
        corrupt = "p2/bad.nii";
        Path bad = inputs.resolve(corrupt);
        write(corrupt, volume(rnd, 2, 32, 32));
        Files.write(bad, Arrays.copyOf(Files.readAllBytes(bad), 400)); // a NIfTI header whose voxels are missing
        List<String> lines = new ArrayList<>();
        lines.add("# test archive");
        try (Stream<Path> s = Files.walk(inputs, 2)) {
            for (Path p : s.filter(p -> p.getNameCount() == inputs.getNameCount() + 2).sorted().toList()) {
                lines.add(inputs.relativize(p).toString().replace('\\', '/'));
            }
        }
        manifest = root.resolve("archive/manifest.txt");
        Files.write(manifest, lines, StandardCharsets.UTF_8);
        Path refs = Files.createDirectories(root.resolve("reference"));
        String line = null;
        for (String rel : lines.subList(1, lines.size())) {
            Path out = refs.resolve(rel);
            Files.createDirectories(out.getParent());
            String err = restore(inputs.resolve(rel), out);
            if (rel.equals(corrupt)) {
                line = err;
                expected.put(rel, null);
            } else {
                assertEquals("", err, rel);
                expected.put(rel, out);
            }
        }
        corruptLine = line;
        assertTrue(corruptLine.startsWith("restore-rwkv restore: " + bad + ": "), corruptLine);
    }

    private void write(String rel, Volume v) throws IOException {
        Path p = inputs.resolve(rel);
        Files.createDirectories(p.getParent());
        VolumeFormats.write(p, v);
    }

    /** CT-like values in HU. */
    private static Volume volume(Random rnd, int d, int h, int w) {
        float[] v = new float[d * h * w];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (40 + 300 * Math.sin(i * 0.01) + 60 * rnd.nextGaussian());
        }
        return Volume.of(d, h, w, v, new double[] {0.8, 0.8, 2.0});
    }

    /** The restore command in this JVM, one thread; returns the error line it printed, or "". */
    private static String restore(Path in, Path out) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            Main.run("restore", "--input", in.toString(), "--output", out.toString(), "--modality", "ct",
                    "--threads", "1", "--quiet");
        } finally {
            System.setErr(old);
        }
        // restore's own lines (its error line), not the loggers' (Spark's log4j2 binding is on this class path)
        return buf.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("restore-rwkv "))
                .reduce((a, b) -> a + "\n" + b).orElse("");
    }

    /** Every output equals restore's: bytes for files, voxels and geometry for DICOM series (new UIDs). */
    void assertOutputsMatch(Path outputRoot) throws IOException {
        for (Map.Entry<String, Path> e : expected.entrySet()) {
            Path got = outputRoot.resolve(e.getKey());
            if (e.getValue() == null) {
                assertTrue(Files.notExists(got), "no output for the corrupt scan " + got);
            } else if (Files.isDirectory(e.getValue())) {
                try (Stream<Path> a = Files.list(e.getValue()); Stream<Path> b = Files.list(got)) {
                    assertEquals(a.count(), b.count(), "files of " + got);
                }
                Volume want = VolumeFormats.read(e.getValue());
                Volume have = VolumeFormats.read(got);
                assertArrayEquals(want.voxels(), have.voxels(), 0f, got.toString());
                assertArrayEquals(want.affine(), have.affine(), 0.0, got.toString());
            } else {
                assertArrayEquals(Files.readAllBytes(e.getValue()), Files.readAllBytes(got), got.toString());
            }
        }
    }

    /** Everything under the output root: the outputs and the results table, nothing else. */
    static List<String> listing(Path outputRoot) throws IOException {
        try (Stream<Path> s = Files.walk(outputRoot)) {
            return s.filter(Files::isRegularFile).map(p -> outputRoot.relativize(p).toString().replace('\\', '/'))
                    .sorted().toList();
        }
    }
}
