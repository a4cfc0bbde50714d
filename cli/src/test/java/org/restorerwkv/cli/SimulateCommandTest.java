package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.TestResources;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.Npy;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

/** {@code simulate} and {@code make-dataset} end to end, in process. */
class SimulateCommandTest {

    @TempDir Path dir;

    private static String res(String name) {
        return TestResources.path(name).toString();
    }

    private int simulate(Path in, Path out, String... more) {
        String[] base = {"simulate", "--input", in.toString(), "--output", out.toString()};
        String[] args = Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        return Main.run(args);
    }

    @Test
    void npyKeepsShapeAndIsDeterministicForASeedOnAnyThreadCount() throws Exception {
        Path in = TestResources.path("io/brain_series.crop.npy"); // (3, 64, 64) T1 crops
        Path a = dir.resolve("a.npy");
        Path b = dir.resolve("b.npy");
        Path c = dir.resolve("c.npy");
        assertEquals(0, simulate(in, a, "--task", "pet-lowcount", "--fraction", "0.25", "--seed", "7", "--threads", "1"));
        assertEquals(0, simulate(in, b, "--task", "pet-lowcount", "--fraction", "1/4", "--seed", "7", "--threads", "3"));
        assertEquals(0, simulate(in, c, "--task", "pet-lowcount", "--fraction", "0.25", "--seed", "8"));
        HostTensor x = Npy.read(in);
        HostTensor ya = Npy.read(a);
        assertArrayEquals(x.shape(), ya.shape());
        assertArrayEquals(ya.data(), Npy.read(b).data());
        assertFalse(Arrays.equals(ya.data(), Npy.read(c).data()));
        assertFalse(Arrays.equals(ya.data(), x.data()));
    }

    @Test
    void niftiKeepsGeometryAndCtTakesItsPixelSpacing() throws Exception {
        Path in = TestResources.path("io/ch2_crop_int16.nii.gz");
        Path a = dir.resolve("a.nii.gz");
        Path b = dir.resolve("b.nii");
        assertEquals(0, simulate(in, a, "--task", "mri-sr", "--scale", "2", "--param", "noise=3", "--seed", "1"));
        assertEquals(0, simulate(in, b, "--task", "mri-sr", "--param", "scale=2,noise=3", "--seed", "1", "--threads", "1"));
        Volume src = VolumeFormats.read(in);
        Volume out = VolumeFormats.read(a);
        assertEquals(src.depth() + "x" + src.height() + "x" + src.width(), out.depth() + "x" + out.height() + "x" + out.width());
        assertArrayEquals(src.spacing(), out.spacing(), 1e-6);
        assertArrayEquals(src.affine(), out.affine(), 1e-5);
        assertArrayEquals(out.voxels(), VolumeFormats.read(b).voxels());

        Path ct = dir.resolve("ct.nii.gz");
        String err = runCapturingErr(0, "simulate", "--task", "ct-lowdose", "--dose", "0.25", "--param", "views=60",
                "--input", res("io/CT_small.dcm"), "--output", ct.toString());
        Volume ctIn = VolumeFormats.read(TestResources.path("io/CT_small.dcm"));
        assertTrue(err.contains("pixel " + ctIn.spacing()[2] + " mm"), err);
        Volume ctOut = VolumeFormats.read(ct);
        assertArrayEquals(ctIn.affine(), ctOut.affine(), 1e-4);
        double noise = 0;
        for (int i = 0; i < ctIn.voxels().length; i++) {
            noise += Math.pow(ctOut.voxels()[i] - ctIn.voxels()[i], 2);
        }
        noise = Math.sqrt(noise / ctIn.voxels().length);
        assertTrue(noise > 5 && noise < 500, "inserted noise rms " + noise + " HU");
    }

    @Test
    void panelShowsInputOutputAndDifference() throws Exception {
        Path png = dir.resolve("panel.png");
        String err = runCapturingErr(0, "simulate", "--task", "mri-sr", "--scale", "4", "--input",
                res("io/MR_small.dcm"), "--output", dir.resolve("x4.npy").toString(), "--panel", png.toString());
        assertTrue(err.contains("panel " + png), err);
        BufferedImage img = ImageIO.read(png.toFile());
        int zoom = 4; // 64-pixel slices are enlarged to 256
        assertEquals(3 * 64 * zoom + 2 * 4, img.getWidth());
        assertEquals(64 * zoom, img.getHeight());
        int differ = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < 64 * zoom; x++) {
                differ += (img.getRaster().getSample(x, y, 0) != img.getRaster().getSample(x + 64 * zoom + 4, y, 0)) ? 1 : 0;
            }
        }
        assertTrue(differ > 1000, "the degraded tile differs from the input tile in " + differ + " pixels");
        assertEquals(255, img.getRaster().getSample(64 * zoom + 1, 10, 0)); // white gap
    }

    @Test
    void badTasksParametersAndFilesFailWithOneLineAndNoOutput() throws Exception {
        Path out = dir.resolve("never.nii.gz");
        String in = res("io/brain_series.crop.npy");
        Path nan = dir.resolve("nan.npy");
        float[] v = new float[2 * 8 * 8];
        v[77] = Float.NaN;
        Npy.write(nan, new HostTensor(new long[] {2, 8, 8}, v));
        Path copy = dir.resolve("in.npy");
        Files.copy(Path.of(in), copy);
        String[][] cases = {
            {"--task", "ct-denoise", "--dose", "0.25", "--input", in},
            {"--task", "ct-lowdose", "--input", in},
            {"--task", "ct-lowdose", "--dose", "2", "--input", in},
            {"--task", "mri-sr", "--scale", "4", "--param", "dose=0.5", "--input", in},
            {"--task", "pet-lowcount", "--fraction", "0.5", "--param", "fraction=0.5", "--input", in},
            {"--task", "pet-lowcount", "--fraction", "0.5", "--param", "views", "--input", in},
            {"--task", "mri-sr", "--scale", "4", "--input", "/no/such/file.nii"},
            {"--task", "mri-sr", "--scale", "4", "--input", nan.toString()},
            {"--task", "mri-sr", "--scale", "4", "--input", in, "--panel", dir.resolve("p.jpg").toString()},
            {"--task", "mri-sr", "--scale", "4", "--input", in, "--panel", dir.resolve("p.png").toString(), "--panel-slice", "9"},
            {"--task", "mri-sr", "--scale", "4", "--input", in, "--panel", dir.resolve("p.png").toString(), "--window", "5,1"},
            {"--task", "mri-sr", "--scale", "4", "--input", in, "--threads", "0"},
        };
        for (String[] c : cases) {
            String[] args = Arrays.copyOf(new String[] {"simulate", "--output", out.toString()}, 3 + c.length);
            System.arraycopy(c, 0, args, 3, c.length);
            String err = runCapturingErr(1, args);
            assertEquals(1, err.strip().lines().count(), "one line: " + err);
            assertTrue(err.startsWith("restore-rwkv simulate: "), err);
            assertFalse(Files.exists(out), "output left behind for " + String.join(" ", args));
            assertFalse(Files.exists(dir.resolve("p.png")));
        }
        byte[] before = Files.readAllBytes(copy);
        String err = runCapturingErr(1, "simulate", "--task", "mri-sr", "--scale", "2", "--input", copy.toString(),
                "--output", copy.toString());
        assertTrue(err.contains("overwrite the input"), err);
        assertArrayEquals(before, Files.readAllBytes(copy));
        err = runCapturingErr(1, "simulate", "--task", "mri-sr", "--scale", "2", "--input", res("io/brain_series"),
                "--output", TestResources.path("io/brain_series").resolve("x.nii").toString());
        assertTrue(err.contains("inside the input folder"), err);
    }

    @Test
    void makeDatasetWritesTheLayoutAndFailsCleanly() throws Exception {
        Path in = Files.createDirectories(dir.resolve("scans"));
        float[] slice = org.restorerwkv.degrade.Phantoms.sheppLogan(32);
        for (int s = 0; s < 5; s++) {
            Npy.write(in.resolve("p" + s + ".npy"), new HostTensor(new long[] {32, 32}, slice));
        }
        Path root = dir.resolve("root");
        String err = runCapturingErr(0, "make-dataset", "--task", "ct-lowdose", "--dose", "0.5", "--param", "views=40",
                "--input", in.toString(), "--out", root.toString(), "--seed", "4");
        assertTrue(err.contains("5 pairs from 5 scans (train 3, validation 1, test 1)"), err);
        for (String part : new String[] {"train", "validation", "test"}) {
            for (String q : new String[] {"LQ", "HQ"}) {
                assertTrue(Files.isDirectory(root.resolve("CT").resolve(part).resolve(q)), part + "/" + q);
            }
        }
        assertTrue(Files.isRegularFile(root.resolve("manifest-CT.json")));
        String[][] bad = {
            {"--task", "ct-lowdose", "--dose", "0.5", "--split", "0.5,0.5"},
            {"--task", "ct-lowdose", "--dose", "0.5", "--format", "png"},
            {"--task", "mri-sr", "--scale", "2", "--pet-from-t1"},
            {"--task", "pet-phantom"},
            {"--task", "mri-sr", "--scale", "0.5"},
        };
        Path root2 = dir.resolve("root2");
        for (String[] c : bad) {
            String[] args = Arrays.copyOf(new String[] {"make-dataset", "--input", in.toString(), "--out",
                root2.toString()}, 5 + c.length);
            System.arraycopy(c, 0, args, 5, c.length);
            err = runCapturingErr(1, args);
            assertEquals(1, err.strip().lines().count(), "one line: " + err);
            assertFalse(Files.exists(root2), String.join(" ", args));
        }
        err = runCapturingErr(1, "make-dataset", "--task", "ct-lowdose", "--dose", "0.5", "--input", in.toString(),
                "--out", root.toString());
        assertTrue(err.contains("already exists"), err);
    }

    static String runCapturingErr(int expected, String... args) {
        java.io.PrintStream old = System.err;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(buf, true));
        try {
            assertEquals(expected, Main.run(args), "exit code for " + String.join(" ", args) + ": " + buf);
        } finally {
            System.setErr(old);
        }
        return buf.toString();
    }
}
