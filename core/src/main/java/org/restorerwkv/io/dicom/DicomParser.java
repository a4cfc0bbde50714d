package org.restorerwkv.io.dicom;

import org.restorerwkv.io.InvalidInputException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Parses a DICOM Part 10 file (with or without the 128-byte preamble and "DICM"), or a bare
 * dataset, into a {@link DicomDataset}. Handles implicit VR little endian, explicit VR little and
 * big endian, deflated explicit VR little endian, sequences of defined and undefined length, and
 * encapsulated pixel data (kept as fragments). Every length is checked against the bytes present;
 * sequences nest at most {@value #MAX_DEPTH} deep; a deflated dataset is inflated only as far as
 * the pixel data its header declares (see {@link #inflate}).
 */
final class DicomParser {

    static final int PIXEL_DATA = 0x7FE00010;
    private static final int ITEM = 0xFFFEE000;
    private static final int ITEM_END = 0xFFFEE00D;
    private static final int SEQ_END = 0xFFFEE0DD;
    private static final long UNDEFINED = 0xFFFFFFFFL;
    static final int MAX_DEPTH = 32;
    /** Inflated bytes allowed before the header has declared the pixel data's size. */
    static final int MAX_INFLATED_HEADER = 64 << 20;
    /** Inflated bytes allowed after the declared pixel data (trailing elements, padding). */
    private static final int INFLATE_SLACK = 1 << 20;

    private static final Set<String> LONG_VRS = Set.of("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR",
            "UT", "SV", "UV");
    private static final Set<String> ALL_VRS = Set.of("AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS",
            "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC",
            "UI", "UL", "UN", "UR", "US", "UT", "UV");

    private DicomParser() {}

    /** True when the bytes start like DICOM: preamble + "DICM", or a plausible first element. */
    static boolean looksLikeDicom(byte[] head) {
        if (head.length >= 132 && head[128] == 'D' && head[129] == 'I' && head[130] == 'C' && head[131] == 'M') {
            return true;
        }
        if (head.length < 8) {
            return false;
        }
        int gLe = (head[0] & 0xff) | (head[1] & 0xff) << 8;
        int gBe = (head[1] & 0xff) | (head[0] & 0xff) << 8;
        boolean vr = ALL_VRS.contains(new String(head, 4, 2, StandardCharsets.ISO_8859_1));
        return (gLe == 0x0002 && vr) || gLe == 0x0008 || (gBe == 0x0008 && vr);
    }

    /** Cursor over a byte range in one transfer syntax. */
    private static final class Cursor {
        final byte[] b;
        int pos;
        final boolean explicit;
        final ByteOrder order;
        final Path file;

        Cursor(byte[] b, int pos, boolean explicit, ByteOrder order, Path file) {
            this.b = b;
            this.pos = pos;
            this.explicit = explicit;
            this.order = order;
            this.file = file;
        }

        int u16() {
            int v = order == ByteOrder.LITTLE_ENDIAN ? (b[pos] & 0xff) | (b[pos + 1] & 0xff) << 8
                    : (b[pos + 1] & 0xff) | (b[pos] & 0xff) << 8;
            pos += 2;
            return v;
        }

        long u32() {
            long v = order == ByteOrder.LITTLE_ENDIAN
                    ? (b[pos] & 0xffL) | (b[pos + 1] & 0xffL) << 8 | (b[pos + 2] & 0xffL) << 16 | (b[pos + 3] & 0xffL) << 24
                    : (b[pos + 3] & 0xffL) | (b[pos + 2] & 0xffL) << 8 | (b[pos + 1] & 0xffL) << 16 | (b[pos] & 0xffL) << 24;
            pos += 4;
            return v;
        }

        void need(long n, int limit, String what) throws InvalidInputException {
            if (n > limit - pos) {
                throw new InvalidInputException(file, "truncated DICOM file: " + what + " needs " + n
                        + " bytes at offset " + pos + ", only " + Math.max(0, limit - pos) + " left");
            }
        }
    }

    static DicomDataset parse(byte[] data, Path file) throws IOException {
        int pos = 0;
        if (data.length >= 132 && new String(data, 128, 4, StandardCharsets.ISO_8859_1).equals("DICM")) {
            pos = 132;
        } else if (data.length >= 4 && new String(data, 0, 4, StandardCharsets.ISO_8859_1).equals("DICM")) {
            pos = 4;
        }
        DicomDataset ds = new DicomDataset();
        ds.source(file);
        // File Meta Information: always explicit VR little endian, group 0002
        Cursor meta = new Cursor(data, pos, true, ByteOrder.LITTLE_ENDIAN, file);
        while (meta.pos + 8 <= data.length && ((data[meta.pos] & 0xff) | (data[meta.pos + 1] & 0xff) << 8) == 0x0002) {
            ds.put(readElement(meta, data.length, 0));
        }
        String ts = ds.string(0x00020010);
        int start = meta.pos;
        if (start >= data.length) {
            throw new InvalidInputException(file, pos == 0 && ds.elements().isEmpty()
                    ? "not a DICOM file" : "truncated DICOM file: no dataset after the file meta information");
        }
        if (ts == null || ts.isEmpty()) {
            ts = guessSyntax(data, start, file);
        }
        ds.transferSyntax(ts);
        byte[] body = data;
        boolean explicit;
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        switch (ts) {
            case DicomTransferSyntax.IMPLICIT_LE -> explicit = false;
            case DicomTransferSyntax.EXPLICIT_BE -> {
                explicit = true;
                order = ByteOrder.BIG_ENDIAN;
            }
            case DicomTransferSyntax.DEFLATED_LE -> {
                explicit = true;
                body = inflate(data, start, file);
                start = 0;
            }
            default -> explicit = true; // explicit LE, and every encapsulated syntax
        }
        ds.pixelOrder(order);
        Cursor c = new Cursor(body, start, explicit, order, file);
        parseItems(c, body.length, false, ds, 0);
        return ds;
    }

    private static String guessSyntax(byte[] d, int p, Path file) throws InvalidInputException {
        if (p + 8 > d.length) {
            throw new InvalidInputException(file, "not a DICOM file (too short)");
        }
        String vr = new String(d, p + 4, 2, StandardCharsets.ISO_8859_1);
        int gLe = (d[p] & 0xff) | (d[p + 1] & 0xff) << 8;
        int gBe = (d[p + 1] & 0xff) | (d[p] & 0xff) << 8;
        if (gLe > 0xff && gBe <= 0xff && ALL_VRS.contains(vr)) {
            return DicomTransferSyntax.EXPLICIT_BE;
        }
        return ALL_VRS.contains(vr) ? DicomTransferSyntax.EXPLICIT_LE : DicomTransferSyntax.IMPLICIT_LE;
    }

    /**
     * Inflates a deflated dataset (PS3.5 A.5) without trusting the stream: first only until the
     * header before Pixel Data has been read (at most {@link #MAX_INFLATED_HEADER} bytes), then
     * to the size that header declares (Rows x Columns x NumberOfFrames x SamplesPerPixel x
     * BitsAllocated, checked against {@link DicomPixels#MAX_VOXELS}) plus a little slack. A stream
     * that would inflate further is refused as a compression bomb before it is held in memory.
     */
    static byte[] inflate(byte[] data, int start, Path file) throws IOException {
        Inflater inf = new Inflater(true);
        try {
            inf.setInput(data, start, data.length - start);
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(1 << 20, 4 * (data.length - start) + 1024));
            byte[] buf = new byte[1 << 16];
            long cap = MAX_INFLATED_HEADER;
            long declared = -1;
            long probe = 1 << 16;
            while (!inf.finished()) {
                int n;
                try {
                    n = inf.inflate(buf);
                } catch (DataFormatException e) {
                    throw new InvalidInputException(file, "corrupt deflated DICOM dataset (" + e.getMessage() + ")");
                }
                if (n == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    if (out.size() == 0 || inf.needsDictionary()) {
                        throw new InvalidInputException(file, "corrupt deflated DICOM dataset");
                    }
                    break; // the end of the file ends the stream (some writers omit the final block marker)
                }
                out.write(buf, 0, n);
                if (declared < 0 && out.size() >= probe) {
                    probe *= 2;
                    long px = declaredPixelEnd(out.toByteArray(), file);
                    if (px >= 0) {
                        declared = px;
                        cap = px + INFLATE_SLACK;
                    }
                }
                if (out.size() > cap) {
                    throw new InvalidInputException(file, declared < 0
                            ? "deflated DICOM dataset inflates beyond " + MAX_INFLATED_HEADER
                                    + " bytes before its Pixel Data (compression bomb?)"
                            : "deflated DICOM dataset inflates beyond the " + declared + " bytes its header declares"
                                    + " (Rows x Columns x NumberOfFrames x BitsAllocated; compression bomb?)");
                }
            }
            return out.toByteArray();
        } finally {
            inf.end();
        }
    }

    /**
     * Where the declared native Pixel Data of an inflated prefix ends (offset of its value plus
     * the bytes the image pixel module declares), or -1 when the prefix does not reach Pixel Data.
     */
    private static long declaredPixelEnd(byte[] prefix, Path file) throws InvalidInputException {
        DicomDataset ds = new DicomDataset();
        ds.source(file);
        Cursor c = new Cursor(prefix, 0, true, ByteOrder.LITTLE_ENDIAN, file);
        while (c.pos + 12 <= prefix.length) {
            int tag = (c.b[c.pos] & 0xff | (c.b[c.pos + 1] & 0xff) << 8) << 16 | (c.b[c.pos + 2] & 0xff)
                    | (c.b[c.pos + 3] & 0xff) << 8;
            if (tag == PIXEL_DATA) {
                long frames = ds.integer(DicomPixels.FRAMES, 1);
                long bytes = DicomPixels.budgetedVoxels(ds, file) * ((ds.integer(DicomPixels.BITS_ALLOCATED, 16) + 7) / 8);
                return c.pos + 12 + Math.max(bytes, frames);
            }
            try {
                ds.put(readElement(c, prefix.length, 0));
            } catch (InvalidInputException e) {
                return -1; // the prefix ends inside this element: inflate more
            }
        }
        return -1;
    }

    /** Reads elements into {@code ds} until {@code limit}, or until an item delimiter if {@code untilItemEnd}. */
    private static void parseItems(Cursor c, int limit, boolean untilItemEnd, DicomDataset ds, int depth)
            throws InvalidInputException {
        while (c.pos < limit) {
            if (limit - c.pos < 8) {
                // a few trailing padding bytes after the last element are tolerated at top level
                if (depth == 0 && !untilItemEnd) {
                    return;
                }
                throw new InvalidInputException(c.file, "truncated DICOM file: element header at offset " + c.pos);
            }
            if (depth == 0 && !untilItemEnd && allZero(c.b, c.pos, limit)) {
                return; // zero padding after the last element (seen after Pixel Data in real files)
            }
            int save = c.pos;
            int tag = c.u16() << 16 | c.u16();
            if (tag == ITEM_END) {
                c.u32();
                if (untilItemEnd) {
                    return;
                }
                continue; // stray delimiter: skip
            }
            c.pos = save;
            ds.put(readElement(c, limit, depth));
        }
        if (untilItemEnd) {
            throw new InvalidInputException(c.file, "truncated DICOM file: sequence item without its delimiter");
        }
    }

    private static boolean allZero(byte[] b, int from, int to) {
        if (b[from] != 0 || b[from + 1] != 0) {
            return false; // a real element starts with a non-zero group
        }
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static DicomElement readElement(Cursor c, int limit, int depth) throws InvalidInputException {
        c.need(8, limit, "element header");
        int tag = c.u16() << 16 | c.u16();
        String vr;
        long len;
        if (c.explicit && (tag >>> 16) != 0xFFFE) {
            vr = new String(c.b, c.pos, 2, StandardCharsets.ISO_8859_1);
            c.pos += 2;
            if (!ALL_VRS.contains(vr)) {
                throw new InvalidInputException(c.file, "corrupt DICOM file: invalid VR '" + printable(vr) + "' for "
                        + DicomElement.tagString(tag) + " at offset " + (c.pos - 6));
            }
            if (LONG_VRS.contains(vr)) {
                c.need(6, limit, "element header");
                c.pos += 2;
                len = c.u32();
            } else {
                len = c.u16();
            }
        } else {
            vr = tag == PIXEL_DATA ? "OW" : DicomDictionary.vr(tag);
            len = c.u32();
        }
        if (len == UNDEFINED) {
            if (tag == PIXEL_DATA) {
                return new DicomElement(tag, "OB", new byte[0], List.of(), readFragments(c, limit));
            }
            // SQ, or UN holding a sequence (encoded implicit VR little endian, PS3.5 6.2.2)
            Cursor inner = vr.equals("UN") && c.explicit
                    ? new Cursor(c.b, c.pos, false, ByteOrder.LITTLE_ENDIAN, c.file) : c;
            List<DicomDataset> items = readSequence(inner, limit, true, depth);
            c.pos = inner.pos;
            return new DicomElement(tag, "SQ", new byte[0], items, null);
        }
        if (len > limit - c.pos) {
            throw new InvalidInputException(c.file, "truncated DICOM file: element " + DicomElement.tagString(tag)
                    + " claims " + len + " bytes at offset " + c.pos + ", only " + (limit - c.pos) + " left");
        }
        int end = c.pos + (int) len;
        if (vr.equals("SQ")) {
            Cursor inner = new Cursor(c.b, c.pos, c.explicit, c.order, c.file);
            List<DicomDataset> items = readSequence(inner, end, false, depth);
            c.pos = end;
            return new DicomElement(tag, "SQ", new byte[0], items, null);
        }
        byte[] value = Arrays.copyOfRange(c.b, c.pos, end);
        c.pos = end;
        if (c.order == ByteOrder.BIG_ENDIAN && tag != PIXEL_DATA) {
            swap(value, width(vr));
        }
        return DicomElement.of(tag, vr, value);
    }

    private static List<DicomDataset> readSequence(Cursor c, int limit, boolean undefined, int depth)
            throws InvalidInputException {
        if (depth >= MAX_DEPTH) {
            throw new InvalidInputException(c.file, "corrupt DICOM file: sequences nested deeper than " + MAX_DEPTH);
        }
        List<DicomDataset> items = new ArrayList<>();
        while (c.pos < limit) {
            c.need(8, limit, "sequence item header");
            int tag = c.u16() << 16 | c.u16();
            long len = c.u32();
            if (tag == SEQ_END) {
                return items;
            }
            if (tag != ITEM) {
                throw new InvalidInputException(c.file, "corrupt DICOM file: expected a sequence item at offset "
                        + (c.pos - 8) + ", found " + DicomElement.tagString(tag));
            }
            DicomDataset item = new DicomDataset();
            item.source(c.file);
            if (len == UNDEFINED) {
                parseItems(c, limit, true, item, depth + 1);
            } else {
                if (len > limit - c.pos) {
                    throw new InvalidInputException(c.file, "truncated DICOM file: sequence item claims " + len
                            + " bytes, only " + (limit - c.pos) + " left");
                }
                int end = c.pos + (int) len;
                parseItems(c, end, false, item, depth + 1);
                c.pos = end;
            }
            items.add(item);
        }
        if (undefined) {
            throw new InvalidInputException(c.file, "truncated DICOM file: sequence without its delimiter");
        }
        return items;
    }

    private static List<byte[]> readFragments(Cursor c, int limit) throws InvalidInputException {
        List<byte[]> frags = new ArrayList<>();
        while (true) {
            c.need(8, limit, "pixel data fragment header");
            int tag = c.u16() << 16 | c.u16();
            long len = c.u32();
            if (tag == SEQ_END) {
                return frags;
            }
            if (tag != ITEM) {
                throw new InvalidInputException(c.file, "corrupt DICOM file: expected a pixel data fragment at offset "
                        + (c.pos - 8) + ", found " + DicomElement.tagString(tag));
            }
            if (len > limit - c.pos) {
                throw new InvalidInputException(c.file, "truncated DICOM file: pixel data fragment claims " + len
                        + " bytes, only " + (limit - c.pos) + " left");
            }
            frags.add(Arrays.copyOfRange(c.b, c.pos, c.pos + (int) len));
            c.pos += (int) len;
        }
    }

    /** Byte width of one numeric value of a VR, or 1 for text and bytes. */
    static int width(String vr) {
        return switch (vr) {
            case "US", "SS", "OW", "AT" -> 2;
            case "UL", "SL", "FL", "OF", "OL" -> 4;
            case "FD", "OD", "SV", "UV", "OV" -> 8;
            default -> 1;
        };
    }

    static void swap(byte[] v, int w) {
        if (w == 1) {
            return;
        }
        for (int i = 0; i + w <= v.length; i += w) {
            for (int a = i, b = i + w - 1; a < b; a++, b--) {
                byte t = v[a];
                v[a] = v[b];
                v[b] = t;
            }
        }
    }

    private static String printable(String s) {
        return DicomDataset.printable(s);
    }
}
