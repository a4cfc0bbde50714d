package org.restorerwkv.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** InVesalius projects: a synthetic .inv3 laid out like the Cranium example (Debian invesalius-examples). */
class Inv3FormatTest {

    @TempDir
    Path tmp;

    /** main.plist as InVesalius 3 writes it (keys and types of the Cranium example). */
    private static String plist(String dtype, int d, int h, int w) {
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <!DOCTYPE plist PUBLIC "-//Apple Computer//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
                <plist version="1.0">
                <dict>
                	<key>annotations</key>
                	<dict>
                	</dict>
                	<key>masks</key>
                	<dict>
                		<key>0</key>
                		<string>mask_0.plist</string>
                	</dict>
                	<key>matrix</key>
                	<dict>
                		<key>dtype</key>
                		<string>%s</string>
                		<key>filename</key>
                		<string>matrix.dat</string>
                		<key>shape</key>
                		<array>
                			<integer>%d</integer>
                			<integer>%d</integer>
                			<integer>%d</integer>
                		</array>
                	</dict>
                	<key>modality</key>
                	<string>CT</string>
                	<key>orientation</key>
                	<integer>1</integer>
                	<key>spacing</key>
                	<array>
                		<real>0.95703119999999997</real>
                		<real>0.8</real>
                		<real>1.5</real>
                	</array>
                	<key>window_level</key>
                	<real>-18.0</real>
                	<key>visible</key>
                	<true/>
                </dict>
                </plist>
                """.formatted(dtype, d, h, w);
    }

    /** A gzip'd tar with the given entries under a temporary-looking folder, in the given order. */
    private Path inv3(String name, Map<String, byte[]> entries) throws IOException {
        Path f = tmp.resolve(name);
        try (OutputStream os = Files.newOutputStream(f);
                TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(os))) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                TarArchiveEntry te = new TarArchiveEntry("tmpocjcea/" + e.getKey());
                te.setSize(e.getValue().length);
                tar.putArchiveEntry(te);
                tar.write(e.getValue());
                tar.closeArchiveEntry();
            }
        }
        return f;
    }

    private static byte[] int16(short[] v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (short x : v) {
            b.putShort(x);
        }
        return b.array();
    }

    @Test
    void readsTheMatrixWithSpacingWhateverTheEntryOrder() throws IOException {
        int d = 3;
        int h = 4;
        int w = 5;
        short[] hu = new short[d * h * w];
        for (int i = 0; i < hu.length; i++) {
            hu[i] = (short) (i * 37 - 1024);
        }
        Map<String, byte[]> entries = new LinkedHashMap<>();
        // the matrix before main.plist, and a mask with its extra leading row/column next to it
        entries.put("matrix.dat", int16(hu));
        entries.put("mask_0.dat", new byte[(d + 1) * (h + 1) * (w + 1)]);
        entries.put("main.plist", plist("int16", d, h, w).getBytes(StandardCharsets.UTF_8));
        Path f = inv3("head.inv3", entries);

        Volume v = VolumeFormats.read(f);
        assertEquals(List.of(d, h, w), List.of(v.depth(), v.height(), v.width()));
        float[] want = new float[hu.length];
        for (int i = 0; i < hu.length; i++) {
            want[i] = hu[i];
        }
        assertArrayEquals(want, v.voxels());
        assertArrayEquals(new double[] {1.5, 0.8, 0.95703119999999997}, v.spacing()); // (z, y, x) from [x, y, z]
        assertEquals("head", VolumeFormats.stem("head.inv3"));

        // and through NIfTI: the spacing survives the conversion
        Path nii = tmp.resolve("head.nii.gz");
        VolumeFormats.convert(f, nii);
        Volume back = VolumeFormats.read(nii);
        assertArrayEquals(want, back.voxels());
        assertArrayEquals(v.spacing(), back.spacing(), 1e-6);
    }

    @Test
    void uint8AndFloat64AreDecoded() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("main.plist", plist("uint8", 1, 1, 2).getBytes(StandardCharsets.UTF_8));
        entries.put("matrix.dat", new byte[] {(byte) 200, 7});
        assertArrayEquals(new float[] {200, 7}, VolumeFormats.read(inv3("u8.inv3", entries)).voxels());
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(-2.5).putDouble(1e3);
        entries.put("main.plist", plist("float64", 1, 2, 1).getBytes(StandardCharsets.UTF_8));
        entries.put("matrix.dat", b.array());
        assertArrayEquals(new float[] {-2.5f, 1000f}, VolumeFormats.read(inv3("f64.inv3", entries)).voxels());
    }

    @Test
    void badProjectsAreRefusedNamingTheFile() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("main.plist", plist("complex64", 1, 2, 2).getBytes(StandardCharsets.UTF_8));
        entries.put("matrix.dat", new byte[32]);
        Path dtype = inv3("dtype.inv3", entries);
        String msg = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(dtype)).getMessage();
        assertTrue(msg.startsWith(dtype + ": unsupported voxel type 'complex64'"), msg);

        entries.put("main.plist", plist("int16", 2, 2, 2).getBytes(StandardCharsets.UTF_8));
        entries.put("matrix.dat", new byte[18]); // 16 expected
        Path size = inv3("size.inv3", entries);
        msg = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(size)).getMessage();
        assertTrue(msg.startsWith(size + ": matrix.dat holds 18 bytes, main.plist describes 16"), msg);

        entries.remove("matrix.dat");
        Path missing = inv3("missing.inv3", entries);
        msg = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(missing)).getMessage();
        assertTrue(msg.contains("without its matrix file matrix.dat"), msg);

        Path noPlist = inv3("noplist.inv3", Map.of("matrix.dat", new byte[16]));
        msg = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(noPlist)).getMessage();
        assertTrue(msg.contains("without main.plist"), msg);

        Path broken = inv3("broken.inv3", Map.of("main.plist", "<plist><dict><key>a".getBytes(StandardCharsets.UTF_8)));
        msg = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(broken)).getMessage();
        assertTrue(msg.startsWith(broken + ": main.plist: malformed XML"), msg);
        assertEquals(1, msg.lines().count());

        Path gz = tmp.resolve("other.gz");
        try (OutputStream os = new GZIPOutputStream(Files.newOutputStream(gz))) {
            os.write(new byte[600]);
        }
        msg = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(gz)).getMessage();
        assertTrue(msg.contains("neither a NIfTI image nor an InVesalius project"), msg);
    }
}
