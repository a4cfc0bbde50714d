package org.restorerwkv.io.dicom;

import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.restorerwkv.io.IoFixtures.resource;

import org.restorerwkv.io.IoFixtures;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DicomWriterTest {

    @TempDir
    Path tmp;

    Path series;

    @BeforeEach
    void copySeries() throws IOException {
        series = tmp.resolve("in");
        Files.createDirectories(series);
        for (String f : new String[] {"brain_002.dcm", "brain_003.dcm", "brain_004.dcm"}) {
            Files.copy(resource("brain_series/" + f), series.resolve(f));
        }
    }

    @Test
    void seriesToNiftiToDicomKeepsVoxelsSpacingAndOrientation() throws IOException {
        Volume src = VolumeFormats.read(series);
        Path nii = tmp.resolve("brain.nii.gz");
        VolumeFormats.convert(series, nii);
        Volume mid = VolumeFormats.read(nii);
        IoFixtures.assertVoxelsEqual(src.voxels(), mid.voxels(), 0f, "nifti voxels");
        IoFixtures.assertAffineEquals(src.affine(), mid.affine(), 1e-4, "nifti affine");
        Path out = tmp.resolve("out");
        VolumeFormats.convert(nii, out);
        Volume back = VolumeFormats.read(out);
        IoFixtures.assertVoxelsEqual(src.voxels(), back.voxels(), 0f, "dicom voxels");
        IoFixtures.assertAffineEquals(src.affine(), back.affine(), 1e-4, "dicom affine");
        assertArrayEquals(src.spacing(), back.spacing(), 1e-4);
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(3, s.count());
        }
        // no source DICOM tags through NIfTI: a Secondary Capture series
        assertEquals(DicomWriter.SECONDARY_CAPTURE, back.dicom().get(0).string(0x00080016));
    }

    @Test
    void derivedSeriesKeepsPatientAndStudyWithNewIdentity() throws IOException {
        Volume src = VolumeFormats.read(series);
        float[] restored = src.voxels().clone();
        for (int i = 0; i < restored.length; i++) {
            restored[i] = restored[i] * 1000f + 0.3f; // beyond int16 under the source's slope 1
        }
        Path out = tmp.resolve("derived");
        VolumeFormats.write(out, src.withVoxels(restored), Derivation.restored("test-model"));
        Volume back = VolumeFormats.read(out);
        double slope = back.dicom().get(0).number(DicomPixels.SLOPE, 1);
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float x : restored) {
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        assertEquals(((double) max - min) / 65534.0, slope, slope * 1e-9, "values spread over the int16 range");
        IoFixtures.assertVoxelsEqual(restored, back.voxels(), (float) (slope / 2 + Math.ulp(max)), "restored voxels within half a step");
        IoFixtures.assertAffineEquals(src.affine(), back.affine(), 1e-4, "affine");
        DicomDataset a = src.dicom().get(0);
        DicomDataset b = back.dicom().get(0);
        for (int tag : new int[] {0x00100010, 0x00100020, 0x0020000D, 0x00200052, 0x00080060, 0x00080016}) {
            assertEquals(a.string(tag), b.string(tag), DicomElement.tagString(tag));
        }
        assertNotEquals(a.string(0x0020000E), b.string(0x0020000E));
        assertTrue(b.string(0x0020000E).startsWith("2.25."));
        assertEquals(b.string(0x0020000E), back.dicom().get(2).string(0x0020000E), "one series");
        assertNotEquals(b.string(0x00080018), back.dicom().get(1).string(0x00080018));
        assertEquals("DERIVED\\SECONDARY\\MPR", b.string(0x00080008), "values 3 and on from the source's ORIGINAL\\PRIMARY\\MPR");
        assertTrue(b.string(0x0008103E).endsWith("restored by Restore-RWKV"), b.string(0x0008103E));
        assertEquals(DicomTransferSyntax.EXPLICIT_LE, b.string(0x00020010));
        assertEquals(List.of("1", "2", "3"), back.dicom().stream().map(d -> d.string(0x00200013)).toList());
    }

    @ParameterizedTest
    @ValueSource(strings = {"CT_small.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm", "MR_small_RLE.dcm",
        "MR_small_12bit_signed.dcm"})
    void singleFileRoundTripIsExact(String name) throws IOException {
        Volume src = VolumeFormats.read(resource(name));
        Path out = tmp.resolve("x.dcm");
        VolumeFormats.write(out, src);
        Volume back = VolumeFormats.read(out);
        IoFixtures.assertVoxelsEqual(src.voxels(), back.voxels(), 0f, name);
        IoFixtures.assertAffineEquals(src.affine(), back.affine(), 1e-4, name);
        assertEquals(src.dicom().get(0).string(0x00100010), back.dicom().get(0).string(0x00100010));
    }

    @Test
    void ctKeepsItsRescaleWhenTheRestoredValuesFit() throws IOException {
        Volume src = VolumeFormats.read(resource("CT_small.dcm"));
        float[] r = src.voxels().clone();
        for (int i = 0; i < r.length; i++) {
            r[i] += 0.25f;
        }
        Path out = tmp.resolve("ct.dcm");
        VolumeFormats.write(out, src.withVoxels(r));
        Volume back = VolumeFormats.read(out);
        assertEquals(1, back.dicom().get(0).number(DicomPixels.SLOPE, 0), 0);
        assertEquals(-1024, back.dicom().get(0).number(DicomPixels.INTERCEPT, 0), 0);
        IoFixtures.assertVoxelsEqual(r, back.voxels(), 0.5f, "HU within rounding");
    }

    @Test
    void badOutputsLeaveNothingBehind() throws IOException {
        Volume src = VolumeFormats.read(series);
        float[] nan = src.voxels().clone();
        nan[nan.length - 1] = Float.NaN;
        Path out = tmp.resolve("nan");
        assertThrows(InvalidInputException.class, () -> VolumeFormats.write(out, src.withVoxels(nan)));
        assertFalse(Files.exists(out));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(1, s.count(), "only the input directory remains");
        }
        Path full = tmp.resolve("full");
        Files.createDirectories(full);
        Files.writeString(full.resolve("keep.txt"), "x");
        assertThrows(InvalidInputException.class, () -> VolumeFormats.write(full, src));
        assertThrows(InvalidInputException.class, () -> VolumeFormats.write(tmp.resolve("one.dcm"), src),
                "3 slices into one .dcm");
    }

    @Test
    void directoryWithTwoSeriesIsRejected() throws IOException {
        Path out = tmp.resolve("derived");
        VolumeFormats.write(out, VolumeFormats.read(series));
        Files.copy(out.resolve("IM0001.dcm"), series.resolve("other.dcm"));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(series));
        assertTrue(e.getMessage().contains("2 DICOM series"), e.getMessage());
    }

    @Test
    void sliceWithAnotherOrientationIsRejected() throws IOException {
        Path f = series.resolve("brain_003.dcm");
        byte[] b = Files.readAllBytes(f);
        String text = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
        String iop = "1.00000\\0.00000\\0.00000\\0.00000\\0.990960\\0.134158";
        String rot = "0.00000\\1.00000\\0.00000\\1.00000\\0.000000\\0.000000";
        int at = text.lastIndexOf(iop); // the first copy is the retired (0020,0035)
        assertTrue(at > 0, "IOP text present");
        System.arraycopy(rot.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, b, at, rot.length());
        Files.write(f, b);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(series));
        assertTrue(e.getMessage().contains("orientation"), e.getMessage());
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    }

    @Test
    void dsFormattingFitsSixteenCharacters() {
        for (double x : new double[] {0.0030518043793392844, -1024, 123456.789012345, 1e-20, -3.14159265358979}) {
            String s = DicomWriter.formatDs(x);
            assertTrue(s.length() <= 16, s);
            assertEquals(x, Double.parseDouble(s), Math.abs(x) * 1e-9, s);
        }
    }
}
