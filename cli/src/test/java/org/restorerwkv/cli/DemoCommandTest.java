package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.checkpoint.BuiltinModels;

/** demo, info --models and builtin:NAME on the command line, with the test-only built-in model. */
class DemoCommandTest {

    @TempDir Path dir;

    @Test
    void demoWritesThreePanelsAndAFiniteMetricsTable() throws Exception {
        Path out = dir.resolve("demo-output");
        String[] printed = new String[1];
        String err = capture(false, () -> printed[0] = capture(true, () -> assertEquals(0,
                Main.run("demo", "--weights", "builtin:test-tiny", "--out", out.toString(), "--threads", "1"))));
        for (String m : List.of("ct", "mri", "pet")) {
            BufferedImage img = ImageIO.read(out.resolve(m + ".png").toFile());
            assertNotNull(img, m);
            assertTrue(img.getWidth() > 3 * img.getHeight() / 2, m + ": four tiles side by side");
        }
        List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        assertEquals(4, csv.size(), String.join("\n", csv));
        assertTrue(csv.get(0).startsWith("modality,sample,degradation,height,width,input_psnr"), csv.get(0));
        for (int i = 1; i < 4; i++) {
            String[] f = csv.get(i).split(",");
            assertEquals(List.of("CT", "MRI", "PET").get(i - 1), f[0]);
            for (int k = 5; k < 11; k++) {
                assertTrue(Double.isFinite(Double.parseDouble(f[k])), csv.get(i));
            }
        }
        // CT 512x512 at a quarter dose: the simulated input is clearly degraded but recognisable
        String[] ct = csv.get(1).split(",");
        assertEquals("512", ct[3]);
        double inputPsnr = Double.parseDouble(ct[5]);
        assertTrue(inputPsnr > 15 && inputPsnr < 30, csv.get(1));
        String md = Files.readString(out.resolve("metrics.md"));
        assertEquals(3, md.lines().filter(l -> l.startsWith("| CT ") || l.startsWith("| MRI ") || l.startsWith("| PET ")).count(), md);
        assertTrue(printed[0].contains("| PET |") && printed[0].contains("wrote "), printed[0]);
        assertTrue(err.contains("CT: chest_ct_512.dcm"), err);
    }

    @Test
    void infoListsTheBuiltinModelsWithTheirCards() throws Exception {
        String out = capture(true, () -> assertEquals(0, Main.run("info", "--models")));
        assertTrue(out.contains("builtin:test-tiny: "), out);
        assertTrue(out.contains("licence: no data went into these weights"), out);
        out = capture(true, () -> assertEquals(0, Main.run("info", "--weights", "builtin:test-tiny")));
        assertTrue(out.contains("key check: OK") && out.contains("model card:"), out);
    }

    @Test
    void convertAcceptsABuiltin() throws Exception {
        Path pth = dir.resolve("tiny.pth");
        assertEquals(0, Main.run("convert", "--input", "builtin:test-tiny", "--output", pth.toString()));
        assertEquals(org.restorerwkv.checkpoint.Weights.read(org.restorerwkv.checkpoint.Weights.resolve("builtin:test-tiny")),
                org.restorerwkv.checkpoint.Weights.read(pth));
    }

    @Test
    void convertLeavesATrainingCheckpointsOptimizerStateBehindAndKeepsItsScaling() throws Exception {
        var state = new java.util.LinkedHashMap<>(org.restorerwkv.checkpoint.Weights.readModelState(
                org.restorerwkv.checkpoint.Weights.resolve("builtin:test-tiny")));
        var withAdam = new java.util.LinkedHashMap<>(state);
        state.forEach((k, t) -> withAdam.put(org.restorerwkv.checkpoint.Weights.OPTIMIZER_PREFIX + "exp_avg." + k, t));
        Path latest = dir.resolve("latest.safetensors");
        org.restorerwkv.checkpoint.Checkpoints.write(latest, withAdam,
                java.util.Map.of(org.restorerwkv.domain.IntensityScaling.METADATA, "mri-p99.5"));
        Path plain = dir.resolve("plain.safetensors");
        assertEquals(0, Main.run("convert", "--input", latest.toString(), "--output", plain.toString()));
        assertEquals(state.keySet(), org.restorerwkv.checkpoint.Weights.read(plain).keySet());
        assertEquals(org.restorerwkv.domain.IntensityScaling.MRI_PERCENTILE, org.restorerwkv.checkpoint.Weights.scalingOf(plain));
        assertEquals(0, Main.run("info", "--weights", latest.toString()));
    }

    @Test
    void theBundledModelsRestoreEverySampleBetterThanItsInput() throws Exception {
        Assumptions.assumeTrue(BuiltinModels.bundled().has(BuiltinModels.DEFAULT), "no default model bundled");
        Path out = dir.resolve("bundled");
        String err = capture(false, () -> capture(true, () -> assertEquals(0, Main.run("demo", "--out", out.toString(),
                "--threads", "1"))));
        List<String> rows = Files.readAllLines(out.resolve("metrics.csv"));
        assertEquals(4, rows.size(), String.join("\n", rows));
        // measured with the bundled weights (docs/models.md, the demo): CT +6.7 dB, MRI +1.15 dB (held-out
        // series, builtin:mri-sr-synth-light), PET +16.2 dB; the margins leave room for libtorch builds, not
        // for a model that returns its input
        Map<String, Double> margin = Map.of("CT", 5.0, "MRI", 0.4, "PET", 5.0);
        for (String row : rows.subList(1, 4)) {
            String[] f = row.split(",");
            double gain = Double.parseDouble(f[8]) - Double.parseDouble(f[5]);
            assertTrue(gain > margin.get(f[0]), f[0] + " gain " + gain);
            String model = org.restorerwkv.api.RestorationModel.defaultWeights(org.restorerwkv.domain.Modality.parse(f[0]));
            assertEquals(model, f[12], f[0] + ": the modality's default model restores it");
            assertTrue(err.contains("weights: " + model + " (default for " + f[0]), err);
        }
    }

    @Test
    void unknownBuiltinsAndMissingWeightsAreOneLineErrors() throws Exception {
        String err = capture(false, () -> assertEquals(1, Main.run("info", "--weights", "builtin:nope")));
        assertEquals("restore-rwkv info: unknown built-in model 'nope' (bundled: "
                + String.join(", ", BuiltinModels.bundled().names()) + ")", err.strip());
        assertTrue(err.contains("test-tiny"), err);
        err = capture(false, () -> assertEquals(1, Main.run("demo", "--weights", "builtin:nope", "--out", dir.resolve("d").toString())));
        assertTrue(err.startsWith("restore-rwkv demo: unknown built-in model 'nope'"), err);
        Assumptions.assumeFalse(BuiltinModels.bundled().has(BuiltinModels.DEFAULT), "a default model is bundled");
        Path in = dir.resolve("x.npy");
        org.restorerwkv.io.Npy.write(in, new org.restorerwkv.io.HostTensor(new long[] {8, 8}, new float[64]));
        err = capture(false, () -> assertEquals(1, Main.run("restore", "--input", in.toString(), "--output",
                dir.resolve("y.npy").toString(), "--modality", "none")));
        assertEquals(1, err.strip().lines().count(), err);
        assertTrue(err.startsWith("restore-rwkv restore: no --weights given and no built-in model is bundled"), err);
        err = capture(false, () -> assertEquals(1, Main.run("demo", "--out", dir.resolve("d").toString())));
        assertTrue(err.startsWith("restore-rwkv demo: no --weights given and no built-in model is bundled"), err);
        assertTrue(!Files.exists(dir.resolve("d")) && !Files.exists(dir.resolve("y.npy")));
    }

    private interface Body {
        void run() throws Exception;
    }

    /** Runs body and returns what it printed on stdout (or stderr). */
    private static String capture(boolean stdout, Body body) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = stdout ? System.out : System.err;
        PrintStream p = new PrintStream(buf, true);
        if (stdout) {
            System.setOut(p);
        } else {
            System.setErr(p);
        }
        try {
            body.run();
        } finally {
            if (stdout) {
                System.setOut(old);
            } else {
                System.setErr(old);
            }
        }
        return buf.toString();
    }
}
