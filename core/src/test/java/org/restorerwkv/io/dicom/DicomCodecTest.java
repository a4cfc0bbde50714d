package org.restorerwkv.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.restorerwkv.io.IoFixtures.resource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.IoFixtures;
import org.restorerwkv.io.Npy;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

/**
 * Compressed pixel data decodes to GDCM's values (io/codec, made by
 * scripts/make-dicom-codec-fixtures.sh; references from gdcmconv --raw): lossless exactly, lossy
 * within one stored unit.
 */
class DicomCodecTest {

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0} ({1})")
    @CsvSource({
        "MR8_jpeg_baseline, 1.2.840.10008.1.2.4.50, 1",
        "MR8_jpeg_lossless, 1.2.840.10008.1.2.4.70, 0",
        "MR_jpeg_lossless, 1.2.840.10008.1.2.4.70, 0",
        "MR_jpeg_lossless_split, 1.2.840.10008.1.2.4.70, 0",
        "CT_jpeg_lossless, 1.2.840.10008.1.2.4.70, 0",
        "CT_j2k_lossless, 1.2.840.10008.1.2.4.90, 0",
        "MR_j2k_lossy, 1.2.840.10008.1.2.4.91, 1",
        "MF_j2k_lossless, 1.2.840.10008.1.2.4.90, 0",
        "MF_jpeg_lossless_bot, 1.2.840.10008.1.2.4.70, 0",
        "MF_jpeg_lossless_eot, 1.2.840.10008.1.2.4.70, 0"})
    void decodesToGdcmsValues(String name, String syntax, int storedUnits) throws IOException {
        Path f = resource("codec/" + name + ".dcm");
        DicomDataset ds = DicomParser.parse(Files.readAllBytes(f), f);
        assertEquals(syntax, ds.transferSyntax());
        Volume v = VolumeFormats.read(f);
        HostTensor ref = Npy.read(resource("codec/" + name + ".gdcm.npy"));
        assertArrayEquals(ref.shape(), new long[] {v.depth(), v.height(), v.width()}, name);
        double slope = ds.number(DicomPixels.SLOPE, 1);
        IoFixtures.assertVoxelsEqual(ref.data(), v.voxels(), (float) (storedUnits * slope), name);
        if (storedUnits > 0) {
            // lossy: not trivially equal to the lossless source either
            assertTrue(maxDiff(ref.data(), v.voxels()) <= storedUnits * slope);
        }
    }

    @Test
    void multiFrameFramesAreTheFourSourceImages() throws IOException {
        // the 4 frames are MR_small, flipped vertically, transposed-and-flipped, and 2200 - MR_small
        float[] mr = VolumeFormats.read(resource("MR_small.dcm")).voxels();
        for (String name : new String[] {"MF_j2k_lossless", "MF_jpeg_lossless_bot", "MF_jpeg_lossless_eot"}) {
            Volume v = VolumeFormats.read(resource("codec/" + name + ".dcm"));
            assertEquals(4, v.depth());
            IoFixtures.assertVoxelsEqual(mr, v.slice(0), 0f, name + " frame 1");
            float[] inverted = v.slice(3);
            for (int i = 0; i < inverted.length; i++) {
                inverted[i] = 2200 - inverted[i];
            }
            IoFixtures.assertVoxelsEqual(mr, inverted, 0f, name + " frame 4");
            assertEquals(4, v.dicom().size());
            assertEquals(3, v.dicom().get(2).frameNumber());
        }
    }

    @Test
    void jpeg2000FromPydicomIsLossless() throws IOException {
        Volume v = VolumeFormats.read(resource("MR_small_jp2klossless.dcm"));
        IoFixtures.assertVoxelsEqual(Npy.read(resource("MR_small.ref.npy")).data(), v.voxels(), 0f, "jp2k lossless");
    }

    @Test
    void corruptCodestreamIsOneLineNamingTheFrame() throws IOException {
        byte[] b = Files.readAllBytes(resource("codec/MR_jpeg_lossless.dcm"));
        // overwrite entropy-coded data of the single frame with markers (0xFF bytes)
        int sos = indexOf(b, new byte[] {(byte) 0xFF, (byte) 0xDA});
        Arrays.fill(b, sos + 20, sos + 2000, (byte) 0xFF);
        Path f = tmp.resolve("bad.dcm");
        Files.write(f, b);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(f));
        assertTrue(e.getMessage().startsWith(f + ": corrupt JPEG frame 1"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    static int indexOf(byte[] b, byte[] pat) {
        outer:
        for (int i = 0; i <= b.length - pat.length; i++) {
            for (int k = 0; k < pat.length; k++) {
                if (b[i + k] != pat[k]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("pattern not found");
    }
}
