package org.restorerwkv.io.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.restorerwkv.io.IoFixtures.resource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.VolumeFormats;

/** Values that decide decoding or units are parsed strictly: a bad one is one line naming the tag and value. */
class DicomStrictTest {

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0} {1}=''{2}''")
    @CsvSource(delimiter = '|', value = {
        "rtdose.dcm|00280008|1A|(0028,0008) NumberOfFrames value '1A' is not an integer string",
        "rtdose.dcm|00280008|15.0|(0028,0008) NumberOfFrames value '15.0' is not an integer string",
        "CT_small.dcm|00281053|abc|(0028,1053) RescaleSlope value 'abc' is not a decimal string",
        "CT_small.dcm|00281053|2x|(0028,1053) RescaleSlope value '2x' is not a decimal string",
        "CT_small.dcm|00281053|0x1p1|(0028,1053) RescaleSlope value '0x1p1' is not a decimal string",
        "CT_small.dcm|00281052|NaN|(0028,1052) RescaleIntercept value 'NaN' is not a decimal string",
        "CT_small.dcm|00281053|0|(0028,1053) RescaleSlope value '0' is zero",
        "CT_small.dcm|00280030|0.66\\abc|(0028,0030) PixelSpacing value '0.66\\abc' is not a decimal string",
        "CT_small.dcm|00280030|0.66|(0028,0030) PixelSpacing value '0.66' has 1 values, expected 2",
        "CT_small.dcm|00200032|1\\2|(0020,0032) ImagePositionPatient value '1\\2' has 2 values, expected 3",
        "CT_small.dcm|00200037|1\\0\\0\\0\\1\\0\\7|(0020,0037) ImageOrientationPatient value '1\\0\\0\\0\\1\\0\\7' has 7 values",
        "CT_small.dcm|00200037|1\\0\\0\\1\\0\\0|(0020,0037) ImageOrientationPatient value '1\\0\\0\\1\\0\\0' is not two orthogonal unit vectors",
        "MR_small.dcm|00280101|US:20|inconsistent DICOM bits: BitsAllocated 16, BitsStored 20",
        "MR_small.dcm|00280103|US:2|(0028,0103) PixelRepresentation value 2 is neither 0",
        "MR_small.dcm|00280002|US:3|SamplesPerPixel 3",
        "MR_small.dcm|00280008|2|(7FE0,0010) PixelData holds 8192 bytes; (0028,0008) NumberOfFrames 2 of 64x64x16 bits need 16384"})
    void malformedValueIsAnErrorNamingTagAndValue(String file, String tag, String value, String expected) throws IOException {
        Path f = rewrite(resource(file), ds -> {
            int t = Integer.parseUnsignedInt(tag, 16);
            if (value.startsWith("US:")) {
                int v = Integer.parseInt(value.substring(3));
                ds.put(DicomElement.of(t, "US", new byte[] {(byte) v, (byte) (v >> 8)}));
            } else {
                ds.put(DicomElement.of(t, DicomDictionary.vr(t), value.getBytes(StandardCharsets.ISO_8859_1)));
            }
        });
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(f));
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void pixelDataLongerThanTheFramesIsAnError() {
        // pydicom's MR_small_padded.dcm: 128 bytes more than 64 x 64 x 16 bits (pydicom reads it with a warning)
        Path f = resource("MR_small_padded.dcm");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(f));
        assertTrue(e.getMessage().contains("(7FE0,0010) PixelData holds 8320 bytes"), e.getMessage());
    }

    @Test
    void rleSegmentPastItsFrameIsAnError() throws IOException {
        // Rows 64 -> 32: every segment of MR_small_RLE.dcm now decodes past the end of its frame
        byte[] b = Files.readAllBytes(resource("MR_small_RLE.dcm"));
        byte[] rows = {0x28, 0, 0x10, 0, 'U', 'S', 2, 0};
        int p = DicomCodecTest.indexOf(b, rows);
        b[p + 8] = 32;
        Path f = tmp.resolve("rle.dcm");
        Files.write(f, b);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(f));
        assertTrue(e.getMessage().contains("RLE frame 1 segment 0 decodes past the end of its frame"), e.getMessage());
    }

    @Test
    void deeplyNestedSequencesAreAnErrorNotAStackOverflow() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int depth = 100_000;
        for (int i = 0; i < depth; i++) {
            body.writeBytes(new byte[] {0x08, 0, 0x15, (byte) 0x92, 'S', 'Q', 0, 0, -1, -1, -1, -1}); // SQ, undefined
            body.writeBytes(new byte[] {(byte) 0xFE, (byte) 0xFF, 0, (byte) 0xE0, -1, -1, -1, -1}); // item, undefined
        }
        Path f = tmp.resolve("deep.dcm");
        Files.write(f, part10(DicomTransferSyntax.EXPLICIT_LE, body.toByteArray()));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(f));
        assertTrue(e.getMessage().contains("nested deeper than " + DicomParser.MAX_DEPTH), e.getMessage());
    }

    @Test
    void deflatedBombStopsAtTheDeclaredSize() throws IOException {
        // an 8 x 8 image whose Pixel Data claims 64 MiB of zeros: deflated to about 64 kB
        ByteArrayOutputStream ds = new ByteArrayOutputStream();
        DicomWriter.writeElement(ds, DicomElement.of(0x00280010, "US", new byte[] {8, 0}));
        DicomWriter.writeElement(ds, DicomElement.of(0x00280011, "US", new byte[] {8, 0}));
        DicomWriter.writeElement(ds, DicomElement.of(0x00280100, "US", new byte[] {16, 0}));
        ds.writeBytes(new byte[] {(byte) 0xE0, 0x7F, 0x10, 0, 'O', 'W', 0, 0, 0, 0, 0, 4}); // 64 MiB
        Deflater d = new Deflater(9, true);
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        d.setInput(ds.toByteArray());
        byte[] buf = new byte[1 << 16];
        byte[] zeros = new byte[1 << 20];
        while (!d.needsInput()) {
            z.write(buf, 0, d.deflate(buf));
        }
        for (int i = 0; i < 64; i++) {
            d.setInput(zeros);
            while (!d.needsInput()) {
                z.write(buf, 0, d.deflate(buf));
            }
        }
        d.finish();
        while (!d.finished()) {
            z.write(buf, 0, d.deflate(buf));
        }
        Path f = tmp.resolve("bomb.dcm");
        Files.write(f, part10(DicomTransferSyntax.DEFLATED_LE, z.toByteArray()));
        assertTrue(Files.size(f) < 200_000, "small file " + Files.size(f));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VolumeFormats.read(f));
        assertTrue(e.getMessage().contains("inflates beyond the"), e.getMessage());
        assertTrue(e.getMessage().contains("bytes its header declares"), e.getMessage());
    }

    @Test
    void deflatedFileWithinItsDeclaredSizeStillReads() throws IOException {
        assertEquals(512, VolumeFormats.read(resource("image_dfl.dcm")).width());
    }

    /** A Part 10 file: preamble, meta (transfer syntax only) and the given dataset bytes. */
    static byte[] part10(String ts, byte[] dataset) {
        ByteArrayOutputStream meta = new ByteArrayOutputStream();
        DicomWriter.writeElement(meta, DicomElement.of(0x00020010, "UI", ts.getBytes(StandardCharsets.US_ASCII)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[128]);
        out.writeBytes("DICM".getBytes(StandardCharsets.US_ASCII));
        int ml = meta.size();
        DicomWriter.writeElement(out, DicomElement.of(0x00020000, "UL", new byte[] {(byte) ml, (byte) (ml >> 8), 0, 0}));
        out.writeBytes(meta.toByteArray());
        out.writeBytes(dataset);
        return out.toByteArray();
    }

    /** The file re-encoded in explicit VR little endian after {@code edit} (native pixel data only). */
    private Path rewrite(Path src, Consumer<DicomDataset> edit) throws IOException {
        DicomDataset ds = DicomParser.parse(Files.readAllBytes(src), src);
        edit.accept(ds);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (DicomElement e : ds.elements()) {
            if (e.group() != 2) {
                DicomWriter.writeElement(body, e);
            }
        }
        Path f = tmp.resolve("edited-" + src.getFileName());
        Files.write(f, part10(DicomTransferSyntax.EXPLICIT_LE, body.toByteArray()));
        return f;
    }
}
