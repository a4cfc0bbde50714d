package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.TestResources;
import org.restorerwkv.io.IoFixtures;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.io.dicom.DicomDataset;

/** DICOM through the commands: strict input errors in one line, honest labels and options on output. */
class DicomCommandsTest {

    @TempDir Path dir;

    /** Exit code and everything written to stderr. */
    private record Result(int code, String err) {}

    private Result run(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Result(code, buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(old);
        }
    }

    @Test
    void malformedNumberIsOneLineNamingFileAndTagAndNothingIsWritten() throws Exception {
        byte[] b = Files.readAllBytes(TestResources.path("io/CT_small.dcm"));
        // RescaleSlope (0028,1053) DS "1 " -> "x "
        byte[] tag = {0x28, 0, 0x53, 0x10, 'D', 'S', 2, 0};
        int p = IoFixtures.indexOf(b, tag, 0);
        b[p + 8] = 'x';
        Path bad = dir.resolve("bad.dcm");
        Files.write(bad, b);
        for (String[] cmd : new String[][] {
            {"convert", "--input", bad.toString(), "--output", dir.resolve("o.nii").toString()},
            {"simulate", "--task", "ct-lowdose", "--dose", "0.25", "--input", bad.toString(), "--output", dir.resolve("s").toString()}}) {
            Result r = run(cmd);
            assertEquals(1, r.code(), r.err());
            String[] lines = r.err().strip().split("\n");
            assertEquals(1, lines.length, r.err());
            assertTrue(lines[0].startsWith("restore-rwkv " + cmd[0] + ": " + bad + ": (0028,1053) RescaleSlope value 'x'"), lines[0]);
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.count(), "only the bad input: nothing written");
        }
    }

    @Test
    void simulateAndConvertNeverSayRestoredAndTakeTheSeriesNumber() throws Exception {
        Path in = TestResources.path("io/CT_small.dcm");
        Path sim = dir.resolve("sim.dcm");
        Path conv = dir.resolve("conv.dcm");
        assertEquals(0, run("simulate", "--task", "ct-lowdose", "--dose", "0.25", "--seed", "1", "--input", in.toString(),
                "--output", sim.toString(), "--series-number", "4242").code());
        assertEquals(0, run("convert", "--input", in.toString(), "--output", conv.toString()).code());
        DicomDataset s = VolumeFormats.read(sim).dicom().get(0);
        DicomDataset c = VolumeFormats.read(conv).dicom().get(0);
        assertEquals("4242", s.string(0x00200011));
        assertTrue(s.string(0x00082111).startsWith("Simulated ct-lowdose"), s.string(0x00082111));
        assertTrue(c.string(0x00082111).startsWith("Converted"), c.string(0x00082111));
        for (DicomDataset d : new DicomDataset[] {s, c}) {
            assertFalse(d.string(0x00082111).toLowerCase().contains("restored"));
            assertFalse(d.string(0x0008103E).toLowerCase().contains("restored"));
        }
    }

    @Test
    void niftiToDicomTakesIdentifiersAndRefusesBadOnes() throws Exception {
        Path in = TestResources.path("io/ch2_crop_int16.nii.gz");
        Path out = dir.resolve("sc");
        assertEquals(0, run("convert", "--input", in.toString(), "--output", out.toString(), "--patient-name", "Doe^Jane",
                "--patient-id", "P7", "--accession-number", "A1", "--study-id", "S1").code());
        DicomDataset d = VolumeFormats.read(out).dicom().get(0);
        assertEquals("Doe^Jane", d.string(0x00100010));
        assertEquals("P7", d.string(0x00100020));
        Result r = run("convert", "--input", in.toString(), "--output", dir.resolve("x").toString(), "--study-uid", "1.2.x");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--study-uid '1.2.x' is not a DICOM UID"), r.err());
        assertFalse(Files.exists(dir.resolve("x")));
    }
}
