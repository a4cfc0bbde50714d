package org.restorerwkv.io.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.restorerwkv.io.IoFixtures.resource;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.IoFixtures;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

/** The derived series as PS3.3 C.7.6.1.1.2 expects it: provenance, geometry copied, honest labels. */
class DerivedSeriesTest {

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

    private static float[] plus(float[] v, float d) {
        float[] r = v.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] += d;
        }
        return r;
    }

    @Test
    void unevenSpacingKeepsEverySlicePositionExactly() throws IOException {
        // brain_002..004 step 0.9 then 1.0 mm in y: the volume's affine can only hold the mean step
        Volume src = VolumeFormats.read(series);
        Path out = tmp.resolve("out");
        VolumeFormats.write(out, src.withVoxels(plus(src.voxels(), 0.25f)), Derivation.restored("m"));
        Volume back = VolumeFormats.read(out);
        for (int k = 0; k < 3; k++) {
            DicomDataset a = src.dicom().get(k);
            DicomDataset b = back.dicom().get(k);
            for (int tag : new int[] {DicomFormat.IPP, DicomFormat.IOP, DicomFormat.PIXEL_SPACING,
                DicomFormat.SLICE_THICKNESS, DicomFormat.SPACING_BETWEEN}) {
                assertEquals(a.string(tag), b.string(tag), "slice " + k + " " + DicomElement.tagString(tag));
            }
        }
        double[] p0 = back.dicom().get(0).numbers(DicomFormat.IPP);
        double[] p1 = back.dicom().get(1).numbers(DicomFormat.IPP);
        double[] p2 = back.dicom().get(2).numbers(DicomFormat.IPP);
        assertNotEquals(p1[1] - p0[1], p2[1] - p1[1], 1e-3, "uneven steps survive");
    }

    @Test
    void provenanceNamesTheOperationAndEachSourceInstance() throws IOException {
        Volume src = VolumeFormats.read(series);
        Path out = tmp.resolve("out");
        VolumeFormats.write(out, src, Derivation.restored("builtin:mri-sr"));
        Volume back = VolumeFormats.read(out);
        for (int k = 0; k < 3; k++) {
            DicomDataset b = back.dicom().get(k);
            assertEquals("Restored by Restore-RWKV with model builtin:mri-sr", b.string(0x00082111));
            DicomElement code = b.get(0x00089215);
            assertEquals(Derivation.Operation.RESTORED.code(), code.items().get(0).string(0x00080100));
            assertEquals(Derivation.CODING_SCHEME, code.items().get(0).string(0x00080102));
            DicomElement ref = b.get(0x00082112);
            assertEquals(1, ref.items().size());
            assertEquals(src.dicom().get(k).string(0x00080018), ref.items().get(0).string(0x00081155));
            assertEquals(src.dicom().get(k).string(0x00080016), ref.items().get(0).string(0x00081150));
            assertEquals("121322", ref.items().get(0).get(0x0040A170).items().get(0).string(0x00080100));
        }
        int srcNumber = src.dicom().get(0).integer(0x00200011, 0);
        assertEquals(srcNumber + 1000, back.dicom().get(0).integer(0x00200011, 0));
    }

    @Test
    void simulatedAndConvertedNeverSayRestored() throws IOException {
        Volume src = VolumeFormats.read(resource("CT_small.dcm"));
        Path sim = tmp.resolve("sim.dcm");
        Path conv = tmp.resolve("conv.dcm");
        VolumeFormats.write(sim, src, Derivation.simulated("low-dose CT at dose 0.25"));
        VolumeFormats.write(conv, src);
        int srcNumber = src.dicom().get(0).integer(0x00200011, 0);
        for (Path p : new Path[] {sim, conv}) {
            DicomDataset d = VolumeFormats.read(p).dicom().get(0);
            for (DicomElement e : d.elements()) {
                if (!e.isSequence()) {
                    assertFalse(d.string(e.tag()).toLowerCase().contains("restored"), p + " " + DicomElement.tagString(e.tag()));
                }
            }
        }
        DicomDataset s = VolumeFormats.read(sim).dicom().get(0);
        assertTrue(s.string(0x00082111).startsWith("Simulated low-dose CT at dose 0.25 by Restore-RWKV"), s.string(0x00082111));
        assertTrue(s.string(0x0008103E).endsWith("simulated by Restore-RWKV"), s.string(0x0008103E));
        assertEquals(srcNumber + 2000, s.integer(0x00200011, 0));
        DicomDataset c = VolumeFormats.read(conv).dicom().get(0);
        assertEquals(srcNumber + 3000, c.integer(0x00200011, 0));
        assertEquals("DERIVED\\SECONDARY\\AXIAL", c.string(0x00080008));
    }

    @Test
    void suffixIsNeverRepeatedAndSeriesNumberCanBeGiven() throws IOException {
        Volume src = VolumeFormats.read(resource("CT_small.dcm"));
        Path once = tmp.resolve("once.dcm");
        Path twice = tmp.resolve("twice.dcm");
        VolumeFormats.write(once, src, Derivation.restored("m"));
        VolumeFormats.write(twice, VolumeFormats.read(once), Derivation.restored("m").withSeriesNumber(77));
        String d1 = VolumeFormats.read(once).dicom().get(0).string(0x0008103E);
        DicomDataset d2 = VolumeFormats.read(twice).dicom().get(0);
        assertEquals(d1, d2.string(0x0008103E));
        assertEquals(1, d1.split("restored by Restore-RWKV", -1).length - 1, d1);
        assertEquals(77, d2.integer(0x00200011, 0));
    }

    @Test
    void mrFromAnIntegerSourceHasNoModalityLut() throws IOException {
        Volume src = VolumeFormats.read(resource("MR_small.dcm"));
        assertNull(src.dicom().get(0).get(DicomPixels.SLOPE), "fixture: MR without rescale");
        Path out = tmp.resolve("mr.dcm");
        VolumeFormats.write(out, src.withVoxels(plus(src.voxels(), 0.3f)), Derivation.restored("m"));
        Volume back = VolumeFormats.read(out);
        assertNull(back.dicom().get(0).get(DicomPixels.SLOPE));
        assertNull(back.dicom().get(0).get(DicomPixels.INTERCEPT));
        IoFixtures.assertVoxelsEqual(src.voxels(), back.voxels(), 0f, "rounded to the source's integer grid");
    }

    @Test
    void petHasInterceptZeroAndPerSliceSlopes() throws IOException {
        Volume src = VolumeFormats.read(series);
        // relabel the MR series as PET to exercise the PET encoding
        List<DicomDataset> pet = src.dicom().stream().map(d -> {
            DicomDataset c = d.copy();
            c.put(DicomElement.of(0x00080060, "CS", "PT".getBytes()));
            c.put(DicomElement.of(0x00080016, "UI", DicomWriter.PET_IMAGE.getBytes()));
            return c;
        }).toList();
        float[] suv = src.voxels().clone();
        for (int i = 0; i < suv.length; i++) {
            suv[i] = suv[i] / 97f * (1 + i / suv.length);
        }
        Volume v = new Volume(src.depth(), src.height(), src.width(), suv, src.spacing(), src.affine(), null, pet);
        Path out = tmp.resolve("pet");
        VolumeFormats.write(out, v, Derivation.simulated("PET low count"));
        Volume back = VolumeFormats.read(out);
        for (int k = 0; k < 3; k++) {
            assertEquals("0", back.dicom().get(k).string(DicomPixels.INTERCEPT));
            double slope = back.dicom().get(k).number(DicomPixels.SLOPE, 0);
            // half a stored step, plus float32 rounding of the decoded value
            IoFixtures.assertVoxelsEqual(v.slice(k), back.slice(k), (float) (slope / 2 + 2e-6), "slice " + k);
        }
    }

    @Test
    void niftiToDicomHasEveryType1And2AttributeAndTheGivenIdentifiers() throws IOException {
        Path out = tmp.resolve("sc");
        Derivation.Identifiers ids = new Derivation.Identifiers("Doe^Jane", "P123", "1.2.3.4", "S1", "A42");
        VolumeFormats.convert(resource("ch2_crop_int16.nii.gz"), out, Derivation.converted().withIdentifiers(ids));
        DicomDataset d = VolumeFormats.read(out).dicom().get(0);
        assertEquals(DicomWriter.SECONDARY_CAPTURE, d.string(0x00080016));
        assertEquals("Doe^Jane", d.string(0x00100010));
        assertEquals("P123", d.string(0x00100020));
        assertEquals("1.2.3.4", d.string(0x0020000D));
        assertEquals("S1", d.string(0x00200010));
        assertEquals("A42", d.string(0x00080050));
        for (int tag : new int[] {0x00100030, 0x00100040, 0x00080020, 0x00080030, 0x00080090, 0x00080060, 0x00200011,
            0x00200060, 0x00080064, 0x00200013, 0x00200020, 0x00080070}) {
            assertNotNull(d.get(tag), DicomElement.tagString(tag));
        }
        if (d.contains(DicomPixels.SLOPE)) {
            assertEquals("US", d.string(0x00281054), "RescaleType with a modality LUT");
        }
        // identifiers are for inputs without DICOM metadata
        assertThrows(InvalidInputException.class, () -> VolumeFormats.convert(resource("CT_small.dcm"),
                tmp.resolve("x.dcm"), Derivation.converted().withIdentifiers(ids)));
    }

    @Test
    void seriesFolderGetsTheUmasksPermissions() throws IOException {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return; // no POSIX permissions to compare
        }
        Path plain = Files.createDirectory(tmp.resolve("plain"));
        Path out = tmp.resolve("out");
        VolumeFormats.write(out, VolumeFormats.read(series));
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(out));
    }

    @Test
    void hashedUidsRepeatAndDifferByIdentity() throws IOException {
        Volume src = VolumeFormats.read(resource("CT_small.dcm"));
        String[] uids = new String[3];
        String[] ids = {"restored m1", "restored m1", "restored m2"};
        for (int i = 0; i < 3; i++) {
            Path p = tmp.resolve("h" + i + ".dcm");
            VolumeFormats.write(p, src, Derivation.restored("m").withUids(UidStrategy.hashed(ids[i])));
            DicomDataset d = VolumeFormats.read(p).dicom().get(0);
            uids[i] = d.string(0x0020000E) + "/" + d.string(0x00080018);
            assertTrue(d.string(0x00080018).startsWith("2.25.") && d.string(0x00080018).length() <= 64);
        }
        assertEquals(uids[0], uids[1]);
        assertNotEquals(uids[0], uids[2]);
    }
}
