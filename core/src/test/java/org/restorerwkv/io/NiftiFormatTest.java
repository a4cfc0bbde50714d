package org.restorerwkv.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.restorerwkv.io.IoFixtures.resource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** NIfTI decoding equals nibabel's get_fdata() (transposed to C order (z, y, x)); writing round-trips. */
class NiftiFormatTest {

    @TempDir
    Path tmp;

    static final String[] FILES = {"ch2_crop_int16.nii.gz", "ch2_crop_float64_be.nii", "ch2_crop_uint16.nii2.nii",
        "ch2_crop_uint8_be.nii2.nii.gz", "ch2_crop_int32.nii", "ch2_crop_float32.nii.gz"};

    @ParameterizedTest
    @ValueSource(strings = {"ch2_crop_int16.nii.gz", "ch2_crop_float64_be.nii", "ch2_crop_uint16.nii2.nii",
        "ch2_crop_uint8_be.nii2.nii.gz", "ch2_crop_int32.nii", "ch2_crop_float32.nii.gz"})
    void decodesLikeNibabel(String name) throws IOException {
        Volume v = VolumeFormats.read(resource(name));
        HostTensor ref = Npy.read(resource(name + ".ref.npy"));
        assertArrayEquals(ref.shape(), new long[] {v.depth(), v.height(), v.width()}, name);
        IoFixtures.assertVoxelsEqual(ref.data(), v.voxels(), 0f, name);
        IoFixtures.assertAffineEquals(IoFixtures.affine(name + ".affine.npy"), v.affine(), 1e-4, name + " affine");
        IoFixtures.assertAffineEquals(IoFixtures.affine(name + ".qform.npy"), v.nifti().qformAffine(), 1e-4,
                name + " qform");
    }

    @Test
    void scalingAndFormsOfTheInt16File() throws IOException {
        Volume v = VolumeFormats.read(resource("ch2_crop_int16.nii.gz"));
        assertEquals(0.5, v.nifti().sclSlope(), 0);
        assertEquals(-10, v.nifti().sclInter(), 0);
        assertEquals(1, v.nifti().qformCode());
        assertEquals(2, v.nifti().sformCode());
        assertEquals("ch2 crop int16 scaled", v.nifti().descrip());
        Volume be = VolumeFormats.read(resource("ch2_crop_float64_be.nii"));
        assertEquals(ByteOrder.BIG_ENDIAN, be.nifti().order());
        assertArrayEquals(new double[] {2.5, 2.0, 1.5}, be.spacing(), 1e-6);
        assertEquals(-1, be.nifti().pixdim()[0], 0, "qfac of a left-handed qform");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ch2_crop_int16.nii.gz", "ch2_crop_float64_be.nii", "ch2_crop_uint16.nii2.nii"})
    void roundTripKeepsVoxelsQformAndSform(String name) throws IOException {
        Volume v = VolumeFormats.read(resource(name));
        for (String ext : new String[] {".nii", ".nii.gz"}) {
            Path out = tmp.resolve("rt" + ext);
            VolumeFormats.write(out, v);
            Volume w = VolumeFormats.read(out);
            IoFixtures.assertVoxelsEqual(v.voxels(), w.voxels(), 0f, name + ext);
            NiftiHeader a = v.nifti();
            NiftiHeader b = w.nifti();
            assertEquals(a.version(), b.version());
            assertEquals(NiftiFormat.DT_FLOAT32, b.datatype());
            assertEquals(a.qformCode(), b.qformCode());
            assertEquals(a.sformCode(), b.sformCode());
            assertEquals((float) a.quaternB(), (float) b.quaternB());
            assertEquals((float) a.quaternC(), (float) b.quaternC());
            assertEquals((float) a.quaternD(), (float) b.quaternD());
            assertEquals((float) a.qoffsetX(), (float) b.qoffsetX());
            for (int i = 0; i < 12; i++) {
                assertEquals((float) a.srow()[i], (float) b.srow()[i], "srow " + i);
            }
            for (int i = 0; i < 4; i++) {
                assertEquals((float) a.pixdim()[i], (float) b.pixdim()[i], "pixdim " + i);
            }
            assertEquals(a.descrip(), b.descrip());
            IoFixtures.assertAffineEquals(v.affine(), w.affine(), 1e-6, name + ext);
        }
    }

    @Test
    void affineWithoutSourceHeaderBecomesQformAndSform() throws IOException {
        // an oblique, left-handed affine: qform must reproduce it through the quaternion + qfac
        double c = Math.cos(0.3);
        double s = Math.sin(0.3);
        double[] aff = {-0.8 * c, -1.1 * s, 0, 12.5, 0.8 * s, -1.1 * c, 0, -7, 0, 0, 2.2, 40, 0, 0, 0, 1};
        float[] vox = new float[3 * 4 * 5];
        for (int i = 0; i < vox.length; i++) {
            vox[i] = i * 0.25f - 3;
        }
        Volume v = new Volume(3, 4, 5, vox, new double[] {2.2, 1.1, 0.8}, aff, null, java.util.List.of());
        Path out = tmp.resolve("made.nii.gz");
        VolumeFormats.write(out, v);
        Volume w = VolumeFormats.read(out);
        IoFixtures.assertVoxelsEqual(vox, w.voxels(), 0f, "voxels");
        IoFixtures.assertAffineEquals(aff, w.nifti().qformAffine(), 1e-5, "qform");
        IoFixtures.assertAffineEquals(aff, w.nifti().sformAffine(), 1e-5, "sform");
        assertArrayEquals(new double[] {2.2, 1.1, 0.8}, w.spacing(), 1e-6);
    }

    @Test
    void extensionsSurviveARoundTrip() throws IOException {
        byte[] all = Files.readAllBytes(resource("ch2_crop_int32.nii"));
        byte[] ext = new byte[32];
        ByteBuffer e = ByteBuffer.wrap(ext).order(ByteOrder.LITTLE_ENDIAN);
        e.putInt(0, 32).putInt(4, 6); // esize, ecode 6 = comment
        byte[] text = "restore-rwkv test".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, ext, 8, text.length);
        byte[] withExt = new byte[all.length + 32];
        System.arraycopy(all, 0, withExt, 0, 352);
        System.arraycopy(ext, 0, withExt, 352, 32);
        System.arraycopy(all, 352, withExt, 384, all.length - 352);
        ByteBuffer h = ByteBuffer.wrap(withExt).order(ByteOrder.LITTLE_ENDIAN);
        h.putFloat(108, 384f);
        withExt[348] = 1;
        Path f = tmp.resolve("ext.nii");
        Files.write(f, withExt);
        Volume v = VolumeFormats.read(f);
        IoFixtures.assertVoxelsEqual(VolumeFormats.read(resource("ch2_crop_int32.nii")).voxels(), v.voxels(), 0f, "ext");
        assertEquals(1, v.nifti().extensions().size());
        assertEquals(6, v.nifti().extensions().get(0).code());
        Path out = tmp.resolve("ext2.nii.gz");
        VolumeFormats.write(out, v);
        NiftiHeader back = VolumeFormats.read(out).nifti();
        assertEquals(1, back.extensions().size());
        assertArrayEquals(v.nifti().extensions().get(0).data(), back.extensions().get(0).data());
    }

    @Test
    void truncatedDataIsRejected() throws IOException {
        byte[] all = Files.readAllBytes(resource("ch2_crop_int32.nii"));
        for (int cut : new int[] {0, 3, 100, 347, 352, 400, all.length - 1}) {
            Path f = tmp.resolve("cut" + cut + ".nii");
            Files.write(f, Arrays.copyOf(all, cut));
            assertThrows(InvalidInputException.class, () -> NiftiFormat.read(f), "cut at " + cut);
        }
        byte[] gz = gzip(Arrays.copyOf(gunzip(resource("ch2_crop_int16.nii.gz")), 5000));
        Path g = tmp.resolve("cut.nii.gz");
        Files.write(g, gz);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(g));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Path corrupt = tmp.resolve("corrupt.nii.gz");
        byte[] bad = Files.readAllBytes(resource("ch2_crop_int16.nii.gz"));
        bad = Arrays.copyOf(bad, bad.length);
        for (int i = 200; i < 260; i++) {
            bad[i] ^= 0x5a;
        }
        Files.write(corrupt, bad);
        assertThrows(InvalidInputException.class, () -> VolumeFormats.read(corrupt));
    }

    @Test
    void gigabyteClaimInATinyFileIsAnError() throws IOException {
        byte[] hdr = Arrays.copyOf(Files.readAllBytes(resource("ch2_crop_int32.nii")), 352 + 64);
        ByteBuffer b = ByteBuffer.wrap(hdr).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(42, (short) 30000).putShort(44, (short) 30000).putShort(46, (short) 30000);
        Path f = tmp.resolve("huge.nii");
        Files.write(f, hdr);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(f));
        assertTrue(e.getMessage().contains("30000x30000x30000"), e.getMessage());
        // the same claim inside gzip, where the size is unknown up front, must fail as well
        Path g = tmp.resolve("huge2.nii.gz");
        b.putShort(46, (short) 2);
        Files.write(g, gzip(hdr));
        assertThrows(InvalidInputException.class, () -> VolumeFormats.read(g));
    }

    @Test
    void fourDimensionalAndUnknownDatatypeAreRejected() throws IOException {
        byte[] all = Files.readAllBytes(resource("ch2_crop_int32.nii"));
        byte[] d4 = all.clone();
        ByteBuffer.wrap(d4).order(ByteOrder.LITTLE_ENDIAN).putShort(40, (short) 4).putShort(48, (short) 2);
        Path f = tmp.resolve("d4.nii");
        Files.write(f, d4);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(f));
        assertTrue(e.getMessage().contains("not supported"), e.getMessage());
        byte[] dt = all.clone();
        ByteBuffer.wrap(dt).order(ByteOrder.LITTLE_ENDIAN).putShort(70, (short) 32); // complex64
        Path g = tmp.resolve("complex.nii");
        Files.write(g, dt);
        e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(g));
        assertTrue(e.getMessage().contains("datatype 32"), e.getMessage());
    }

    @Test
    void failedWriteLeavesNoFile() throws IOException {
        Path out = tmp.resolve("sub").resolve("x.nii");
        Volume v = Volume.of(1, 2, 2, new float[] {1, 2, 3, 4});
        VolumeFormats.write(out, v);
        assertTrue(Files.exists(out));
        try (var s = Files.list(out.getParent())) {
            assertEquals(1, s.count(), "no temporary files left behind");
        }
        assertFalse(Files.exists(tmp.resolve("none.xyz")));
        assertThrows(InvalidInputException.class, () -> VolumeFormats.write(tmp.resolve("none.xyz"), v));
    }

    private static byte[] gunzip(Path p) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(Files.newInputStream(p))) {
            return in.readAllBytes();
        }
    }

    private static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(bo)) {
            o.write(b);
        }
        return bo.toByteArray();
    }
}
