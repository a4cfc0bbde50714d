package org.restorerwkv.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.restorerwkv.io.IoFixtures.resource;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Format detection, NPY/NPZ/PNG/TIFF round trips and the documented grey mapping. */
class VolumeFormatsTest {

    @TempDir
    Path tmp;

    private static Volume ramp(int d, int h, int w, float scale, float offset) {
        float[] v = new float[d * h * w];
        Random r = new Random(7);
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.round(r.nextFloat() * scale) + offset;
        }
        return Volume.of(d, h, w, v);
    }

    @Test
    void detectsByContentNotName() throws IOException {
        // a NIfTI and a DICOM file with misleading names are still recognised
        Path nii = tmp.resolve("image.dat");
        Files.copy(resource("ch2_crop_int32.nii"), nii);
        assertEquals(12, VolumeFormats.read(nii).depth());
        Path dcm = tmp.resolve("scan.nii");
        Files.copy(resource("MR_small.dcm"), dcm);
        assertEquals(64, VolumeFormats.read(dcm).width());
        Path junk = tmp.resolve("junk.bin");
        Files.write(junk, new byte[2000]);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(junk));
        assertTrue(e.getMessage().startsWith(junk.toString() + ": "), e.getMessage());
        assertThrows(InvalidInputException.class, () -> VolumeFormats.read(tmp.resolve("missing.nii")));
    }

    @Test
    void npyAndNpzRoundTrip() throws IOException {
        Volume v = ramp(3, 5, 7, 100, -50.5f);
        for (String name : new String[] {"v.npy", "v.npz"}) {
            Path p = tmp.resolve(name);
            VolumeFormats.write(p, v);
            Volume w = VolumeFormats.read(p);
            assertEquals(3, w.depth());
            assertArrayEquals(v.voxels(), w.voxels());
        }
        Npy.write(tmp.resolve("flat.npy"), new HostTensor(new long[] {10}, new float[10]));
        assertThrows(InvalidInputException.class, () -> VolumeFormats.read(tmp.resolve("flat.npy")));
    }

    @Test
    void png16BitRoundTripAndMapping() throws IOException {
        Volume v = ramp(1, 9, 11, 65535, 0);
        Path p = tmp.resolve("a.png");
        VolumeFormats.write(p, v);
        Volume w = VolumeFormats.read(p);
        assertArrayEquals(v.voxels(), w.voxels());
        BufferedImage img = ImageIO.read(p.toFile());
        assertEquals(BufferedImage.TYPE_USHORT_GRAY, img.getType());
        // default mapping rounds and clips; a window maps lo..hi linearly onto 0..65535
        Volume hu = Volume.of(1, 1, 4, new float[] {-1000, 2.4f, 2.6f, 70000});
        Path q = tmp.resolve("hu.png");
        VolumeFormats.write(q, hu);
        assertArrayEquals(new float[] {0, 2, 3, 65535}, VolumeFormats.read(q).voxels());
        ImageFormat.write(q, hu, new ImageFormat.Window(-1000, 1000));
        assertArrayEquals(new float[] {0, Math.round((1002.4 / 2000) * 65535), Math.round((1002.6 / 2000) * 65535),
            65535}, VolumeFormats.read(q).voxels());
        assertThrows(InvalidInputException.class, () -> VolumeFormats.write(tmp.resolve("b.png"), ramp(2, 3, 3, 9, 0)));
    }

    @Test
    void eightBitGreyPngReads() throws IOException {
        BufferedImage img = new BufferedImage(5, 4, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 5; x++) {
                img.getRaster().setSample(x, y, 0, 250 - 13 * (y * 5 + x));
            }
        }
        Path p = tmp.resolve("g8.png");
        ImageIO.write(img, "png", p.toFile());
        Volume v = VolumeFormats.read(p);
        assertEquals(4, v.height());
        assertEquals(250 - 13 * 7, v.get(0, 1, 2), 0);
        BufferedImage rgb = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        rgb.setRGB(0, 0, 0xff0000);
        Path c = tmp.resolve("rgb.png");
        ImageIO.write(rgb, "png", c.toFile());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(c));
        assertTrue(e.getMessage().contains("colour"), e.getMessage());
    }

    @Test
    void multiPageTiffRoundTrip() throws IOException {
        Volume v = ramp(3, 6, 5, 4000, 0);
        Path p = tmp.resolve("stack.tif");
        VolumeFormats.write(p, v);
        Volume w = VolumeFormats.read(p);
        assertEquals(3, w.depth());
        assertArrayEquals(v.voxels(), w.voxels());
    }

    @Test
    void truncatedImagesAreRejected() throws IOException {
        Path p = tmp.resolve("t.png");
        VolumeFormats.write(p, ramp(1, 40, 40, 65535, 0));
        byte[] all = Files.readAllBytes(p);
        Path cut = tmp.resolve("cut.png");
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        assertThrows(InvalidInputException.class, () -> VolumeFormats.read(cut));
        Path t = tmp.resolve("t.tif");
        VolumeFormats.write(t, ramp(1, 40, 40, 65535, 0));
        byte[] tb = Files.readAllBytes(t);
        Path tcut = tmp.resolve("cut.tif");
        Files.write(tcut, Arrays.copyOf(tb, 300));
        assertThrows(InvalidInputException.class, () -> VolumeFormats.read(tcut));
    }

    @Test
    void newGridKeepsTheFieldOfView() throws IOException {
        Volume v = VolumeFormats.read(resource("MR_small.dcm"));
        Volume up = v.withGrid(1, 128, 128, new float[128 * 128]);
        assertEquals(v.spacing()[1] / 2, up.spacing()[1], 1e-12);
        // the outer edge of the first voxel is the same world point on both grids
        assertArrayEquals(v.worldOf(-0.5, -0.5, 0), up.worldOf(-0.5, -0.5, 0), 1e-9);
        assertArrayEquals(v.worldOf(63.5, 63.5, 0), up.worldOf(127.5, 127.5, 0), 1e-9);
        Path out = tmp.resolve("up.dcm");
        VolumeFormats.write(out, up);
        Volume back = VolumeFormats.read(out);
        assertEquals(128, back.width());
        IoFixtures.assertAffineEquals(up.affine(), back.affine(), 1e-4, "upsampled geometry");
    }

    @Test
    void convertDicomToEveryFormat() throws IOException {
        Volume src = VolumeFormats.read(resource("MR_small.dcm"));
        for (String name : new String[] {"a.nii", "a.nii.gz", "a.npy", "a.npz", "a.png", "a.tiff", "a.dcm", "series"}) {
            Path out = tmp.resolve(name);
            VolumeFormats.convert(resource("MR_small.dcm"), out);
            assertArrayEquals(src.voxels(), VolumeFormats.read(out).voxels(), name);
        }
        assertThrows(InvalidInputException.class,
                () -> VolumeFormats.convert(resource("MR_small.dcm"), tmp.resolve("a.jpg")));
    }
}
