package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.TestResources;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.Npy;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

/** The command line end to end, in process. */
class RestoreCommandTest {

    @TempDir Path dir;

    private static final String TINY = "parity/tiny-32x32/";

    @Test
    void restoreOnTheTinyWeightsReproducesTheReferenceOutput() throws Exception {
        Path out = dir.resolve("out.npy");
        int rc = Main.run("restore", "--weights", TestResources.path(TINY + "weights.pth").toString(),
                "--modality", "none", "--input", TestResources.path(TINY + "input.npy").toString(), "--output", out.toString());
        assertEquals(0, rc);
        HostTensor y = Npy.read(out);
        HostTensor ref = Npy.read(TestResources.path(TINY + "out_eval.npy"));
        assertArrayEquals(ref.shape(), y.shape());
        double d = 0;
        for (int i = 0; i < y.data().length; i++) {
            d = Math.max(d, Math.abs(y.data()[i] - ref.data()[i]));
        }
        assertTrue(d <= 1e-4, "max |diff| " + d);
    }

    @Test
    void badInputsFailWithOneLineAndNoOutput() throws Exception {
        Path out = dir.resolve("never.npy");
        Path input = TestResources.path(TINY + "input.npy");
        Path truncated = dir.resolve("trunc.npy");
        Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(input), 200));
        Path badPickle = dir.resolve("w.pth");
        Files.writeString(badPickle, "PK\u0003\u0004 this is no zip");
        String[][] cases = {
            {"restore", "--weights", "/no/such/weights.pth", "--input", input.toString(), "--output", out.toString()},
            {"restore", "--weights", TestResources.path(TINY + "weights.pth").toString(), "--input", truncated.toString(), "--output", out.toString()},
            {"restore", "--weights", badPickle.toString(), "--input", input.toString(), "--output", out.toString()},
            {"restore", "--weights", TestResources.path(TINY + "weights.pth").toString(), "--config", "light",
                "--input", input.toString(), "--output", out.toString()},
            // the default model loads while the scan is read; it is named only once a scan has been read
            {"restore", "--modality", "ct", "--input", truncated.toString(), "--output", out.toString()},
        };
        for (String[] args : cases) {
            String err = runCapturingErr(args);
            assertFalse(Files.exists(out), "output left behind for " + String.join(" ", args));
            assertEquals(1, err.strip().lines().count(), "one line: " + err);
            assertTrue(err.startsWith("restore-rwkv restore: "), err);
        }
    }

    @Test
    void outputMayNotOverwriteInput() throws Exception {
        Path copy = dir.resolve("in.npy");
        Files.copy(TestResources.path(TINY + "input.npy"), copy);
        byte[] before = Files.readAllBytes(copy);
        String err = runCapturingErr("restore", "--weights", TestResources.path(TINY + "weights.pth").toString(),
                "--input", copy.toString(), "--output", copy.toString());
        assertTrue(err.contains("overwrite the input"), err);
        assertArrayEquals(before, Files.readAllBytes(copy));
    }

    @Test
    void weightsConvertToSafetensorsAndBackAndStillRestore() throws Exception {
        Path st = dir.resolve("w.safetensors");
        Path pth = dir.resolve("back.pth");
        assertEquals(0, Main.run("convert", "--input", TestResources.path(TINY + "weights.pth").toString(), "--output", st.toString()));
        assertEquals(0, Main.run("convert", "--input", st.toString(), "--output", pth.toString()));
        assertEquals(org.restorerwkv.checkpoint.Weights.read(TestResources.path(TINY + "weights.pth")),
                org.restorerwkv.checkpoint.Weights.read(pth));
        Path out = dir.resolve("y.npy");
        assertEquals(0, Main.run("restore", "--weights", st.toString(), "--modality", "none", "--input",
                TestResources.path(TINY + "input.npy").toString(), "--output", out.toString()));
        assertArrayEquals(Npy.read(TestResources.path(TINY + "out_eval.npy")).shape(), Npy.read(out).shape());
    }

    @Test
    void restoreOnCtSmallAndTheBrainSeriesKeepsGeometry() throws Exception {
        String w = TestResources.path(TINY + "weights.pth").toString();
        // CT_small declares Modality CT: auto normalization in HU
        Path ct = TestResources.path("io/CT_small.dcm");
        Path ctOut = dir.resolve("ct.dcm");
        assertEquals(0, Main.run("restore", "--weights", w, "--input", ct.toString(), "--output", ctOut.toString(), "--quiet"));
        assertSameGeometry(VolumeFormats.read(ct), VolumeFormats.read(ctOut));
        Path series = TestResources.path("io/brain_series");
        Path seriesOut = dir.resolve("brain_restored");
        assertEquals(0, Main.run("restore", "--weights", w, "--modality", "mri", "--input", series.toString(),
                "--output", seriesOut.toString(), "--quiet"));
        Volume in = VolumeFormats.read(series);
        Volume out = VolumeFormats.read(seriesOut);
        assertSameGeometry(in, out);
        assertEquals(in.dicom().get(0).string(0x0020000D), out.dicom().get(0).string(0x0020000D), "same study");
        assertTrue(!in.dicom().get(0).string(0x0020000E).equals(out.dicom().get(0).string(0x0020000E)), "new series UID");
        // to NIfTI by the output's extension, along another axis
        Path nii = dir.resolve("brain.nii.gz");
        assertEquals(0, Main.run("restore", "--weights", w, "--modality", "mri", "--axis", "2", "--input", series.toString(),
                "--output", nii.toString(), "--quiet"));
        assertSameGeometry(in, VolumeFormats.read(nii));
    }

    private static void assertSameGeometry(Volume a, Volume b) {
        assertEquals(a.depth(), b.depth());
        assertEquals(a.height(), b.height());
        assertEquals(a.width(), b.width());
        assertArrayEquals(a.spacing(), b.spacing(), 1e-4);
        assertArrayEquals(a.affine(), b.affine(), 1e-3);
    }

    @Test
    void unsupportedAndCorruptScansFailWithOneLine() throws Exception {
        String w = TestResources.path(TINY + "weights.pth").toString();
        Path out = dir.resolve("x.nii");
        for (String f : new String[] {"io/JPEG-lossy.dcm", "io/MR_truncated.dcm"}) {
            String err = runCapturingErr("restore", "--weights", w, "--modality", "mri", "--input",
                    TestResources.path(f).toString(), "--output", out.toString(), "--quiet");
            assertEquals(1, err.strip().lines().count(), err);
            assertFalse(Files.exists(out));
        }
        String err = runCapturingErr("restore", "--weights", w, "--input", TestResources.path("io/ch2_crop_int16.nii.gz").toString(),
                "--output", out.toString(), "--quiet");
        assertTrue(err.contains("--modality"), err);
    }

    static String runCapturingErr(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            int rc = Main.run(args);
            assertEquals(1, rc, "exit code for " + String.join(" ", args));
        } finally {
            System.setErr(old);
        }
        return buf.toString();
    }
}
