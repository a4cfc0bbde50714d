package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ai.djl.ndarray.NDManager;
import org.restorerwkv.TestResources;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;
import org.restorerwkv.model.TokenShift;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.Npy;

/** The erf command end to end, in process, on the tiny reference weights (dim 8). */
class ErfCommandTest {

    @TempDir Path dir;

    private static final String WEIGHTS = "parity/tiny-32x32/weights.pth";

    static HostTensor random(long seed, long... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[(int) HostTensor.numel(shape)];
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (r.nextDouble() * 4095);
        }
        return new HostTensor(shape, d);
    }

    @Test
    void stackGivesAPngAndARawMapCroppedToAMultipleOf8() throws Exception {
        Path stack = dir.resolve("stack.npy");
        Npy.write(stack, random(1, 3, 20, 26));
        Path png = dir.resolve("erf.png");
        Path raw = dir.resolve("erf.npy");
        String out = runCapturingOut(0, "erf", "--weights", TestResources.path(WEIGHTS).toString(), "--modality", "mri",
                "--input", stack.toString(), "--out", png.toString(), "--npy", raw.toString(), "--limit", "2", "--scale", "2");
        assertTrue(out.startsWith("erf: 2 slices of 16x24, centre (8, 12): 50% of the gradient mass within radius"), out);
        assertEquals(1, out.strip().lines().count(), out);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(48, img.getWidth());
        assertEquals(32, img.getHeight());
        HostTensor map = Npy.read(raw);
        assertArrayEquals(new long[] {16, 24}, map.shape());
        for (float v : map.data()) {
            assertTrue(Float.isFinite(v) && v >= 0, "value " + v);
        }
    }

    @Test
    void folderOfScansWithSizeAndARandomModel() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("slices"));
        Npy.write(folder.resolve("a.npy"), random(2, 20, 20));
        Npy.write(folder.resolve("b.npy"), random(3, 24, 18));
        BufferedImage grey = new BufferedImage(17, 19, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 19; y++) {
            for (int x = 0; x < 17; x++) {
                grey.getRaster().setSample(x, y, 0, (x * 37 + y * 11) % 256);
            }
        }
        ImageIO.write(grey, "png", folder.resolve("c.png").toFile());
        Files.writeString(folder.resolve(".notes"), "hidden files are skipped");
        Path config = dir.resolve("tiny.json");
        Files.writeString(config, "{\"inp_channels\": 1, \"out_channels\": 1, \"dim\": 8, \"num_blocks\": [1, 1, 1, 1],"
                + " \"num_refinement_blocks\": 1}");
        Path png = dir.resolve("erf.png");
        String out = runCapturingOut(0, "erf", "--config", config.toString(), "--input", folder.toString(),
                "--out", png.toString(), "--size", "16");
        assertTrue(out.startsWith("erf: 3 slices of 16x16"), out);
        assertEquals(16, ImageIO.read(png.toFile()).getWidth());
    }

    @Test
    void dicomScanCroppedAndNormalizedAsCt() throws Exception {
        Path png = dir.resolve("ct.png");
        String out = runCapturingOut(0, "erf", "--weights", TestResources.path(WEIGHTS).toString(), "--modality", "ct",
                "--input", TestResources.path("io/CT_small.dcm").toString(), "--out", png.toString(), "--size", "24");
        assertTrue(out.startsWith("erf: 1 slice of 24x24, centre (12, 12)"), out);
        assertEquals(24, ImageIO.read(png.toFile()).getHeight());
    }

    @Test
    void badInputsFailWithOneLineAndNoOutput() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("mixed"));
        Npy.write(folder.resolve("a.npy"), random(2, 16, 16));
        Npy.write(folder.resolve("b.npy"), random(3, 24, 24));
        Path fourD = dir.resolve("four.npy");
        Npy.write(fourD, random(4, 2, 1, 16, 16));
        Path withText = Files.createDirectory(dir.resolve("text"));
        Npy.write(withText.resolve("a.npy"), random(2, 16, 16));
        Files.writeString(withText.resolve("notes.txt"), "not a scan");
        Path png = dir.resolve("never.png");
        String w = TestResources.path(WEIGHTS).toString();
        List<String[]> cases = List.of(
                new String[] {"erf", "--weights", w, "--input", folder.toString(), "--out", png.toString()},
                new String[] {"erf", "--weights", w, "--input", folder.toString(), "--out", png.toString(), "--size", "32"},
                new String[] {"erf", "--weights", w, "--input", fourD.toString(), "--out", png.toString()},
                new String[] {"erf", "--weights", w, "--input", dir.resolve("none.npy").toString(), "--out", png.toString()},
                new String[] {"erf", "--weights", w, "--input", fourD.toString(), "--out", png.toString(), "--size", "12"},
                new String[] {"erf", "--weights", w, "--input", withText.toString(), "--out", png.toString()});
        String[] expected = {"b.npy: slice of 24x24 differs from a.npy (16x16): pass --size N", "a.npy: slice of 16x16 is smaller than --size 32",
            "four.npy: a volume needs a 2-D or 3-D array", "none.npy: no such file", "--size must be a positive multiple of 8",
            "notes.txt: unrecognised file format"};
        for (int i = 0; i < cases.size(); i++) {
            String err = runCapturingErr(cases.get(i));
            assertEquals(1, err.strip().lines().count(), err);
            assertTrue(err.startsWith("restore-rwkv erf: ") && err.contains(expected[i]), err);
            assertFalse(Files.exists(png));
        }
    }

    /**
     * Several --weights: one labelled panel each on one colour scale, radii per model. The same
     * model twice gives two identical panels; the npy holds the (N, H, W) raw maps.
     */
    @Test
    void severalWeightsGivePanelsOnOneScaleWithRadiiPerModel() throws Exception {
        Path stack = dir.resolve("stack.npy");
        Npy.write(stack, random(5, 2, 16, 16));
        Path quad;
        try (NDManager m = NDManager.newBaseManager()) {
            ModelConfig c = new ModelConfig(1, 1, 8, new int[] {1, 1, 1, 1}, 1, 1, 4, TokenShift.QUAD);
            quad = dir.resolve("quad.safetensors");
            Weights.write(quad, RestoreRwkv.create(c, m, 3).stateDict(), c, IntensityScaling.FIXED);
        }
        String tiny = TestResources.path(WEIGHTS).toString();
        Path png = dir.resolve("panels.png");
        Path raw = dir.resolve("maps.npy");
        String out = runCapturingOut(0, "erf", "--weights", tiny, "--weights", quad.toString(), "--weights", tiny,
                "--labels", "omni,quad-r1,again", "--modality", "mri", "--input", stack.toString(), "--out", png.toString(),
                "--npy", raw.toString());
        List<String> lines = out.strip().lines().toList();
        assertEquals(5, lines.size(), out);
        assertTrue(lines.get(0).startsWith("erf: 2 slices of 16x16, centre (8, 8); radius holding 50% / 90%"), out);
        assertTrue(lines.get(1).matches("erf: omni: [0-9.]+ px / [0-9.]+ px"), out);
        assertTrue(lines.get(2).matches("erf: quad-r1: [0-9.]+ px / [0-9.]+ px"), out);
        assertEquals(lines.get(1).replace("omni", "again"), lines.get(3));
        assertTrue(lines.get(4).startsWith("erf: 3 panels on one colour scale: " + png), out);
        HostTensor maps = Npy.read(raw);
        assertArrayEquals(new long[] {3, 16, 16}, maps.shape());
        BufferedImage img = ImageIO.read(png.toFile());
        int tile = 256; // 16 px enlarged 16 times
        assertEquals(3 * tile + 2 * 4, img.getWidth());
        int top = img.getHeight() - tile;
        boolean differs = false;
        for (int y = 0; y < tile; y += 8) {
            for (int x = 0; x < tile; x += 8) {
                assertEquals(img.getRGB(x, top + y), img.getRGB(2 * (tile + 4) + x, top + y), "same model, same colours");
                differs |= img.getRGB(x, top + y) != img.getRGB(tile + 4 + x, top + y);
            }
        }
        assertTrue(differs, "the two models' panels differ");

        String err = runCapturingErr("erf", "--weights", tiny, "--weights", quad.toString(), "--labels", "one",
                "--input", stack.toString(), "--out", dir.resolve("never.png").toString());
        assertTrue(err.startsWith("restore-rwkv erf: --labels gives 1 labels for 2 --weights"), err);
        assertFalse(Files.exists(dir.resolve("never.png")));
    }

    /** info --config prints the token shift and the recurrence of a variant's config file. */
    @Test
    void infoPrintsTokenShiftAndRecurrence() throws Exception {
        Path config = dir.resolve("uni.json");
        Files.writeString(config, "{\"inp_channels\": 1, \"out_channels\": 1, \"dim\": 8, \"num_blocks\": [1, 1, 1, 1],"
                + " \"num_refinement_blocks\": 1, \"recurrence\": 1, \"token_shift\": \"uni\"}");
        String out = runCapturingOut(0, "info", "--config", config.toString());
        assertTrue(out.contains("token shift: uni (Uni-Shift of RWKV-4); recurrence: 1 (Bi-WKV, one row-major scan)"), out);
        Files.writeString(config, "{\"inp_channels\": 1, \"out_channels\": 1, \"dim\": 8, \"num_blocks\": [1, 1, 1, 1],"
                + " \"num_refinement_blocks\": 1, \"token_shfit\": \"uni\"}");
        String err = runCapturingErr("info", "--config", config.toString());
        assertTrue(err.startsWith("restore-rwkv info: " + config + ": not a valid model config: unknown field \"token_shfit\""), err);
    }

    @Test
    void limitPicksEvenlySpacedSlices() {
        assertEquals(List.of(1, 4, 7), ErfCommand.select(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8), 3));
        assertEquals(List.of(0, 1), ErfCommand.select(List.of(0, 1), 5));
    }

    private static String runCapturingOut(int expectedRc, String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            assertEquals(expectedRc, Main.run(args), "exit code for " + String.join(" ", args));
        } finally {
            System.setOut(old);
        }
        return buf.toString();
    }

    private static String runCapturingErr(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            assertEquals(1, Main.run(args), "exit code for " + String.join(" ", args));
        } finally {
            System.setErr(old);
        }
        return buf.toString();
    }
}
