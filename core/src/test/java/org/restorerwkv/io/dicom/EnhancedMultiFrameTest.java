package org.restorerwkv.io.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.restorerwkv.io.IoFixtures.resource;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.IoFixtures;
import org.restorerwkv.io.Npy;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

/**
 * Enhanced MR (io/enhanced/enhanced_mr.dcm, scripts/make-enhanced-mr-fixture.py): frames in the
 * order 3, 1, 2 with geometry in the functional groups and a rescale per frame.
 */
class EnhancedMultiFrameTest {

    @TempDir
    Path tmp;

    static final Path FILE = resource("enhanced/enhanced_mr.dcm");

    @Test
    void framesAreSortedIntoAVolumeOfRealWorldValues() throws IOException {
        Volume v = VolumeFormats.read(FILE);
        assertEquals(3, v.depth());
        HostTensor ref = Npy.read(resource("enhanced/enhanced_mr.frames.npy")); // file order, rescaled per frame
        int[] fileFrameOfSlice = {1, 2, 0}; // frames hold positions 3, 1, 2
        for (int k = 0; k < 3; k++) {
            float[] expected = java.util.Arrays.copyOfRange(ref.data(), fileFrameOfSlice[k] * 4096, (fileFrameOfSlice[k] + 1) * 4096);
            IoFixtures.assertVoxelsEqual(expected, v.slice(k), 0f, "slice " + k);
            assertEquals(fileFrameOfSlice[k] + 1, v.dicom().get(k).frameNumber());
        }
        assertEquals(7.0, v.spacing()[0], 1e-5);
        assertEquals(0.859375, v.spacing()[1], 1e-9);
    }

    @Test
    void geometryIsDcm2niixs() throws Exception {
        Path exe = onPath("dcm2niix");
        Assumptions.assumeTrue(exe != null, "dcm2niix (Debian package dcm2niix) is not installed: geometry not compared");
        Path in = Files.createDirectories(tmp.resolve("in"));
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.copy(FILE, in.resolve("e.dcm"));
        Process p = new ProcessBuilder(exe.toString(), "-z", "n", "-b", "n", "-f", "e", "-o", out.toString(), in.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("log.txt").toFile()).start();
        try {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "dcm2niix finished");
        } finally {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("log.txt")));
        Volume theirs = VolumeFormats.read(out.resolve("e.nii"));
        Volume mine = VolumeFormats.read(FILE);
        // the same 8 corner voxel centres in world space, whichever way either side orders its axes
        List<double[]> a = corners(mine);
        List<double[]> b = corners(theirs);
        for (double[] c : a) {
            assertTrue(b.stream().anyMatch(d -> dist(c, d) < 1e-3), "corner " + java.util.Arrays.toString(c)
                    + " not among dcm2niix's " + b.stream().map(java.util.Arrays::toString).toList());
        }
        assertEquals(3, theirs.depth());
    }

    @Test
    void severalStacksAreRefusedNamingThem() throws IOException {
        Path f = rewrite(ds -> {
            DicomDataset frame2 = ds.get(DicomFormat.PER_FRAME_GROUPS).items().get(1);
            DicomDataset content = frame2.get(0x00209111).items().get(0);
            content.put(DicomElement.of(0x00209056, "SH", "2 ".getBytes(StandardCharsets.US_ASCII)));
        });
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(f));
        assertTrue(e.getMessage().startsWith(f + ": the frames form 2 stacks (StackID [1, 2])"), e.getMessage());
    }

    @Test
    void severalOrientationsAreRefusedNamingThem() throws IOException {
        Path f = rewrite(ds -> {
            DicomDataset frame3 = ds.get(DicomFormat.PER_FRAME_GROUPS).items().get(2);
            DicomDataset orient = new DicomDataset();
            orient.put(DicomElement.of(DicomFormat.IOP, "DS", "0\\1\\0\\0\\0\\-1".getBytes(StandardCharsets.US_ASCII)));
            frame3.put(new DicomElement(0x00209116, "SQ", new byte[0], List.of(orient), null));
        });
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(f));
        assertTrue(e.getMessage().contains("frame 3 orientation"), e.getMessage());
        assertTrue(e.getMessage().contains("several orientations"), e.getMessage());
    }

    @Test
    void derivedSeriesCopiesEachFramesPositionAndReferencesIt() throws IOException {
        Volume v = VolumeFormats.read(FILE);
        Path out = tmp.resolve("out");
        VolumeFormats.write(out, v, Derivation.restored("m"));
        Volume back = VolumeFormats.read(out);
        IoFixtures.assertAffineEquals(v.affine(), back.affine(), 1e-4, "geometry");
        for (int k = 0; k < 3; k++) {
            DicomDataset b = back.dicom().get(k);
            assertEquals(v.dicom().get(k).string(DicomFormat.IPP), b.string(DicomFormat.IPP));
            assertEquals(DicomWriter.MR_IMAGE, b.string(0x00080016));
            DicomDataset ref = b.get(0x00082112).items().get(0);
            assertEquals(Integer.toString(v.dicom().get(k).frameNumber()), ref.string(0x00081160));
            double slope = b.number(DicomPixels.SLOPE, 1);
            IoFixtures.assertVoxelsEqual(v.slice(k), back.slice(k), (float) (slope / 2 + 1e-3), "slice " + k);
        }
    }

    private Path rewrite(Consumer<DicomDataset> edit) throws IOException {
        return DicomTestFiles.rewrite(FILE, tmp.resolve("edited.dcm"), edit);
    }

    private static List<double[]> corners(Volume v) {
        List<double[]> out = new ArrayList<>();
        for (int k : new int[] {0, v.depth() - 1}) {
            for (int j : new int[] {0, v.height() - 1}) {
                for (int i : new int[] {0, v.width() - 1}) {
                    out.add(v.worldOf(i, j, k));
                }
            }
        }
        return out;
    }

    private static double dist(double[] a, double[] b) {
        return Math.sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
    }

    static Path onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
