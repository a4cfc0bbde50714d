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
import org.restorerwkv.TestResources;
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
