package org.restorerwkv.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.checkpoint.Safetensors;

/**
 * What a file declares is checked against {@link ReadLimits} before anything is allocated,
 * compressed content is bounded while it inflates and its checksums are verified, recursive
 * formats have depth limits, and a reader never turns finite data into infinities. Every refusal is
 * one line naming the file.
 */
class BoundedReadTest {

    @TempDir Path dir;

    private InvalidInputException refused(Path f, ReadLimits limits, String expected) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(f, limits));
        assertTrue(e.getMessage().startsWith(f + ": ") && !e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        return e;
    }

    private Path write(String name, byte[] b) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, b);
        return p;
    }

    /** A NIfTI-1 header (int16 unless told) followed by {@code data}. */
    static byte[] nifti(int x, int y, int z, short datatype, float slope, byte[] data) {
        ByteBuffer h = ByteBuffer.allocate(352 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(0, 348);
        short[] dim = {3, (short) x, (short) y, (short) z, 1, 1, 1, 1};
        for (int i = 0; i < 8; i++) {
            h.putShort(40 + 2 * i, dim[i]);
            h.putFloat(76 + 4 * i, 1f);
        }
        h.putShort(70, datatype);
        h.putShort(72, (short) (datatype == 4 ? 16 : datatype == 64 ? 64 : 32));
        h.putFloat(108, 352);
        h.putFloat(112, slope);
        h.put(344, (byte) 'n').put(345, (byte) '+').put(346, (byte) '1');
        h.position(352);
        h.put(data);
        return h.array();
    }

    private static byte[] gzip(byte[] b, int trailingZeros) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(b);
            byte[] zeros = new byte[1 << 16];
            for (int n = 0; n < trailingZeros; n += zeros.length) {
                z.write(zeros, 0, Math.min(zeros.length, trailingZeros - n));
            }
        }
        return out.toByteArray();
    }

    @Test
    void declaredVoxelsAboveTheLimitAreRefusedBeforeReading() throws Exception {
        Path f = write("big.nii.gz", gzip(nifti(2048, 2048, 512, (short) 4, 0, new byte[0]), 0));
        refused(f, ReadLimits.DEFAULT, "above the limit of 134217728 (--max-voxels raises it)");
        Path ok = write("ok.nii", nifti(4, 4, 2, (short) 4, 0, new byte[64]));
        assertEquals(32, VolumeFormats.read(ok, ReadLimits.DEFAULT).voxels().length);
        refused(ok, new ReadLimits(31, 1 << 20), "4x4x2 = 32 voxels, above the limit of 31");
    }

    @Test
    void gzipIsInflatedToItsEndWithinTheByteLimitAndItsCrcChecked() throws Exception {
        byte[] image = nifti(4, 4, 1, (short) 4, 0, new byte[32]);
        Path bomb = write("bomb.nii.gz", gzip(image, 4 << 20)); // a small image, then 4 MB of zeros
        refused(bomb, new ReadLimits(1 << 20, 1 << 20), "inflates past the limit of 1048576 bytes");
        byte[] gz = gzip(image, 0);
        gz[gz.length - 8] ^= 0x5a; // CRC-32 in the trailer
        refused(write("crc.nii.gz", gz), ReadLimits.DEFAULT, "corrupt gzip stream");
    }

    @Test
    void npzMembersAreCrcCheckedAndBoundedByTheirDirectory() throws Exception {
        ByteArrayOutputStream npy = new ByteArrayOutputStream();
        Npy.write(npy, new HostTensor(new long[] {4, 4}, new float[16]));
        byte[] member = npy.toByteArray();
        CRC32 crc = new CRC32();
        crc.update(member);
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(zip)) {
            ZipEntry e = new ZipEntry("volume.npy");
            e.setMethod(ZipEntry.STORED);
            e.setSize(member.length);
            e.setCrc(crc.getValue());
            z.putNextEntry(e);
            z.write(member);
            z.closeEntry();
        }
        byte[] b = zip.toByteArray();
        assertEquals(16, VolumeFormats.read(write("ok.npz", b), ReadLimits.DEFAULT).voxels().length);
        int data = indexOf(b, member) + member.length - 3;
        b[data] ^= 0x40; // a voxel's bits: the stored member no longer matches its CRC
        refused(write("flipped.npz", b), ReadLimits.DEFAULT, "fails its CRC-32 check");
        refused(write("small.npz", zip.toByteArray()), new ReadLimits(1 << 20, 100), "above the limit of 100");
    }

    @Test
    void finiteDataThatFloat32CannotHoldAreRefusedWithACount() throws Exception {
        byte[] v = new byte[2 * 8];
        ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().put(new short[] {1000, -1000, 1, 0, 0, 0, 0, 0});
        Path slope = write("slope.nii", nifti(8, 1, 1, (short) 4, 1e38f, v));
        refused(slope, ReadLimits.DEFAULT, "2 finite voxel value(s) become infinite or NaN as float32 after scaling");
        ByteArrayOutputStream f8 = new ByteArrayOutputStream();
        byte[] d = new byte[4 * 8];
        ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().put(new double[] {1e300, -1e39, 1, 2});
        String hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
        f8.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) (hdr.length() + 1), 0});
        f8.write((hdr + "\n").getBytes(StandardCharsets.ISO_8859_1));
        f8.write(d);
        refused(write("f8.npy", f8.toByteArray()), ReadLimits.DEFAULT, "2 float64 value(s) lie beyond the float32 range");
    }

    /** A little-endian TIFF of {@code pages} 2x2 16-bit pages whose last page points to page {@code loopTo} (-1: none). */
    private static byte[] tiff(int pages, int loopTo) {
        ByteBuffer b = ByteBuffer.allocate(8 + pages * (8 + 2 + 9 * 12 + 4)).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'I').put((byte) 'I').putShort((short) 42).putInt(0);
        int[] ifd = new int[pages];
        int[] next = new int[pages];
        for (int p = 0; p < pages; p++) {
            int dataOff = b.position();
            b.putLong(0x0001000200030004L + p);
            ifd[p] = b.position();
            int[][] tags = {{256, 4, 2}, {257, 4, 2}, {258, 3, 16}, {259, 3, 1}, {262, 3, 1}, {273, 4, dataOff},
                {277, 3, 1}, {278, 4, 2}, {279, 4, 8}};
            b.putShort((short) tags.length);
            for (int[] t : tags) {
                b.putShort((short) t[0]).putShort((short) t[1]).putInt(1);
                if (t[1] == 3) {
                    b.putShort((short) t[2]).putShort((short) 0);
                } else {
                    b.putInt(t[2]);
                }
            }
            next[p] = b.position();
            b.putInt(0);
        }
        b.putInt(4, ifd[0]);
        for (int p = 0; p + 1 < pages; p++) {
            b.putInt(next[p], ifd[p + 1]);
        }
        if (loopTo >= 0) {
            b.putInt(next[pages - 1], ifd[loopTo]);
        }
        return b.array();
    }

    @Test
    void tiffPageChainsAreWalkedWithLoopDetection() throws Exception {
        assertEquals(3, VolumeFormats.read(write("ok.tif", tiff(3, -1)), ReadLimits.DEFAULT).depth());
        refused(write("self.tif", tiff(1, 0)), ReadLimits.DEFAULT, "TIFF page chain loops: page 1 is page 0 again");
        refused(write("back.tif", tiff(3, 0)), ReadLimits.DEFAULT, "TIFF page chain loops: page 3 is page 0 again");
        refused(write("mid.tif", tiff(4, 2)), ReadLimits.DEFAULT, "page 4 is page 2 again");
        refused(write("many.tif", tiff(5, -1)), new ReadLimits(4, 1 << 20), "more than 4 pages");
    }

    @Test
    void pngDimensionsAreCheckedBeforeDecoding() throws Exception {
        Path small = dir.resolve("a.png");
        ImageFormat.write(small, Volume.of(1, 8, 8, new float[64]));
        byte[] b = Files.readAllBytes(small);
        ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN).putInt(16, 30000).putInt(20, 30000); // IHDR width, height
        CRC32 crc = new CRC32();
        crc.update(b, 12, 17);
        ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN).putInt(29, (int) crc.getValue());
        refused(write("bomb.png", b), ReadLimits.DEFAULT, "30000x30000x1 = 900000000 voxels, above the limit");
    }

    @Test
    void deeplyNestedPlistIsRefusedWithoutStackOverflow() throws Exception {
        String deep = "<array>".repeat(50000) + "</array>".repeat(50000);
        String plist = "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>x</key>" + deep + "</dict></plist>";
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(tar)) {
            byte[] p = plist.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry e = new TarArchiveEntry("p/main.plist");
            e.setSize(p.length);
            t.putArchiveEntry(e);
            t.write(p);
            t.closeArchiveEntry();
        }
        refused(write("deep.inv3", gzip(tar.toByteArray(), 0)), ReadLimits.DEFAULT, "nested deeper than 64 levels");
    }

    @Test
    void deeplyNestedSafetensorsHeaderIsRefusedWithoutStackOverflow() throws Exception {
        String json = "[".repeat(100000) + "]".repeat(100000);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length()).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length()).put(json.getBytes(StandardCharsets.US_ASCII));
        Path f = write("deep.safetensors", b.array());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Safetensors.read(f));
        assertTrue(e.getMessage().startsWith(f + ": safetensors header JSON nests"), e.getMessage());
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
