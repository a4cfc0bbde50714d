package org.restorerwkv.io;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the Pixel Data of one DICOM dataset to float32 frames: native (uncompressed) or RLE
 * Lossless (PS3.5 Annex G), grey only, 8/16/32 bits allocated, BitsStored &lt; BitsAllocated with
 * sign extension when PixelRepresentation is 1, then RescaleSlope/RescaleIntercept (modality LUT)
 * applied, so CT comes out in Hounsfield units. MONOCHROME1 values are not inverted (as pydicom).
 */
final class DicomPixels {

    static final int ROWS = 0x00280010;
    static final int COLUMNS = 0x00280011;
    static final int SAMPLES = 0x00280002;
    static final int PHOTOMETRIC = 0x00280004;
    static final int FRAMES = 0x00280008;
    static final int BITS_ALLOCATED = 0x00280100;
    static final int BITS_STORED = 0x00280101;
    static final int HIGH_BIT = 0x00280102;
    static final int PIXEL_REP = 0x00280103;
    static final int SLOPE = 0x00281053;
    static final int INTERCEPT = 0x00281052;

    private DicomPixels() {}

    /** Frame geometry and encoding read from the image pixel module. */
    record Layout(int rows, int cols, int frames, int allocated, int stored, int highBit, boolean signed) {
        int frameSize() {
            return rows * cols;
        }
    }

    static Layout layout(DicomDataset ds, Path file) throws InvalidInputException {
        if (ds.get(DicomParser.PIXEL_DATA) == null) {
            throw new InvalidInputException(file, "DICOM file has no Pixel Data (7FE0,0010)");
        }
        int rows = ds.integer(ROWS, 0);
        int cols = ds.integer(COLUMNS, 0);
        int samples = ds.integer(SAMPLES, 1);
        int frames = ds.integer(FRAMES, 1);
        int allocated = ds.integer(BITS_ALLOCATED, 0);
        int stored = ds.integer(BITS_STORED, allocated);
        int high = ds.integer(HIGH_BIT, stored - 1);
        boolean signed = ds.integer(PIXEL_REP, 0) == 1;
        if (rows < 1 || cols < 1 || frames < 1) {
            throw new InvalidInputException(file, "invalid DICOM image size: Rows " + rows + ", Columns " + cols
                    + ", NumberOfFrames " + frames);
        }
        if (samples != 1) {
            throw new InvalidInputException(file, "DICOM colour images (SamplesPerPixel " + samples + ", "
                    + ds.string(PHOTOMETRIC) + ") are not supported; only greyscale");
        }
        String photometric = ds.string(PHOTOMETRIC);
        if (photometric != null && !photometric.isEmpty() && !photometric.startsWith("MONOCHROME")) {
            throw new InvalidInputException(file, "DICOM PhotometricInterpretation " + photometric
                    + " is not supported; only MONOCHROME1/MONOCHROME2 greyscale");
        }
        if (allocated != 8 && allocated != 16 && allocated != 32) {
            throw new InvalidInputException(file, "unsupported DICOM BitsAllocated " + allocated);
        }
        if (stored < 1 || stored > allocated || high < stored - 1 || high >= allocated) {
            throw new InvalidInputException(file, "inconsistent DICOM bits: allocated " + allocated + ", stored "
                    + stored + ", high bit " + high);
        }
        long total = (long) rows * cols * frames;
        if (total > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(file, "DICOM image of " + total + " pixels is too large");
        }
        return new Layout(rows, cols, frames, allocated, stored, high, signed);
    }

    /** All frames of the dataset, each rows*cols values in row-major order, rescaled. */
    static List<float[]> decode(DicomDataset ds, Path file) throws InvalidInputException {
        String ts = ds.transferSyntax();
        if (!DicomTransferSyntax.supported(ts)) {
            throw new InvalidInputException(file, "unsupported DICOM transfer syntax " + DicomTransferSyntax.describe(ts));
        }
        Layout l = layout(ds, file);
        DicomElement px = ds.get(DicomParser.PIXEL_DATA);
        int bpp = l.allocated() / 8;
        int frameBytes = l.frameSize() * bpp;
        List<byte[]> raw = new ArrayList<>();
        ByteOrder order = ds.pixelOrder();
        if (ts.equals(DicomTransferSyntax.RLE)) {
            if (!px.isEncapsulated()) {
                throw new InvalidInputException(file, "RLE transfer syntax but Pixel Data is not encapsulated");
            }
            for (byte[] f : rleFrames(px.fragments(), l.frames(), file)) {
                raw.add(rleDecode(f, l, file));
            }
            order = ByteOrder.LITTLE_ENDIAN; // rleDecode assembles little-endian samples
        } else {
            if (px.isEncapsulated()) {
                throw new InvalidInputException(file, "encapsulated Pixel Data in uncompressed transfer syntax " + ts);
            }
            byte[] v = px.value();
            long need = (long) frameBytes * l.frames();
            if (v.length < need) {
                throw new InvalidInputException(file, "truncated DICOM Pixel Data: " + l.frames() + " frame(s) of "
                        + l.rows() + "x" + l.cols() + "x" + l.allocated() + " bits need " + need + " bytes, "
                        + v.length + " present");
            }
            for (int f = 0; f < l.frames(); f++) {
                raw.add(java.util.Arrays.copyOfRange(v, f * frameBytes, (f + 1) * frameBytes));
            }
        }
        double slope = ds.number(SLOPE, 1);
        double inter = ds.number(INTERCEPT, 0);
        if (slope == 0 || !Double.isFinite(slope) || !Double.isFinite(inter)) {
            throw new InvalidInputException(file, "invalid DICOM RescaleSlope " + slope + " / RescaleIntercept " + inter);
        }
        List<float[]> out = new ArrayList<>();
        int shift = l.highBit() + 1 - l.stored();
        long mask = l.stored() == 64 ? -1L : (1L << l.stored()) - 1;
        long signBit = 1L << (l.stored() - 1);
        for (byte[] r : raw) {
            float[] f = new float[l.frameSize()];
            for (int i = 0; i < f.length; i++) {
                long u = sample(r, i, bpp, order);
                long s = (u >>> shift) & mask;
                if (l.signed() && (s & signBit) != 0) {
                    s -= 1L << l.stored(); // sign-extend BitsStored bits
                }
                f[i] = (float) (s * slope + inter);
            }
            out.add(f);
        }
        return out;
    }

    private static long sample(byte[] r, int i, int bpp, ByteOrder o) {
        int p = i * bpp;
        if (bpp == 1) {
            return r[p] & 0xffL;
        }
        long v = 0;
        if (o == ByteOrder.LITTLE_ENDIAN) {
            for (int k = bpp - 1; k >= 0; k--) {
                v = v << 8 | (r[p + k] & 0xffL);
            }
        } else {
            for (int k = 0; k < bpp; k++) {
                v = v << 8 | (r[p + k] & 0xffL);
            }
        }
        return v;
    }

    /** Groups fragments into frames: one frame takes them all; otherwise the offset table or one each. */
    private static List<byte[]> rleFrames(List<byte[]> frags, int frames, Path file) throws InvalidInputException {
        if (frags.isEmpty()) {
            throw new InvalidInputException(file, "encapsulated Pixel Data has no basic offset table item");
        }
        byte[] bot = frags.get(0);
        List<byte[]> data = frags.subList(1, frags.size());
        if (data.isEmpty()) {
            throw new InvalidInputException(file, "encapsulated Pixel Data has no fragments");
        }
        List<byte[]> out = new ArrayList<>();
        if (frames == 1) {
            out.add(concat(data, 0, data.size()));
            return out;
        }
        if (bot.length >= 4 * frames) {
            // map frame offsets (relative to the first fragment's item tag) to fragment indexes
            long[] starts = new long[data.size()];
            long off = 0;
            for (int i = 0; i < data.size(); i++) {
                starts[i] = off;
                off += 8 + data.get(i).length;
            }
            int[] first = new int[frames + 1];
            for (int f = 0; f < frames; f++) {
                long o = (bot[4 * f] & 0xffL) | (bot[4 * f + 1] & 0xffL) << 8 | (bot[4 * f + 2] & 0xffL) << 16
                        | (bot[4 * f + 3] & 0xffL) << 24;
                int idx = java.util.Arrays.binarySearch(starts, o);
                if (idx < 0) {
                    throw new InvalidInputException(file, "basic offset table entry " + o + " of frame " + f
                            + " does not start a fragment");
                }
                first[f] = idx;
            }
            first[frames] = data.size();
            for (int f = 0; f < frames; f++) {
                if (first[f + 1] <= first[f]) {
                    throw new InvalidInputException(file, "basic offset table is not increasing");
                }
                out.add(concat(data, first[f], first[f + 1]));
            }
            return out;
        }
        if (data.size() != frames) {
            throw new InvalidInputException(file, data.size() + " pixel data fragments for " + frames
                    + " frames and no basic offset table");
        }
        out.addAll(data);
        return out;
    }

    private static byte[] concat(List<byte[]> parts, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            n += parts.get(i).length;
        }
        byte[] b = new byte[n];
        int p = 0;
        for (int i = from; i < to; i++) {
            System.arraycopy(parts.get(i), 0, b, p, parts.get(i).length);
            p += parts.get(i).length;
        }
        return b;
    }

    /**
     * One RLE frame (PS3.5 G.3-G.5): a 64-byte header (segment count, 15 offsets), then one
     * PackBits segment per byte of each sample, most significant byte first. Returns the frame as
     * little-endian samples.
     */
    static byte[] rleDecode(byte[] f, Layout l, Path file) throws InvalidInputException {
        int bpp = l.allocated() / 8;
        if (f.length < 64) {
            throw new InvalidInputException(file, "truncated RLE frame: header needs 64 bytes, " + f.length + " present");
        }
        long count = le32(f, 0);
        if (count != bpp) {
            throw new InvalidInputException(file, "RLE frame has " + count + " segments, expected " + bpp
                    + " for " + l.allocated() + "-bit greyscale");
        }
        int n = l.frameSize();
        byte[] out = new byte[n * bpp];
        for (int s = 0; s < count; s++) {
            long start = le32(f, 4 + 4 * s);
            long end = s + 1 < count ? le32(f, 8 + 4 * s) : f.length;
            if (start < 64 || start > end || end > f.length) {
                throw new InvalidInputException(file, "corrupt RLE header: segment " + s + " spans " + start + ".." + end
                        + " in a " + f.length + "-byte frame");
            }
            int byteIndex = bpp - 1 - s; // segment 0 holds the most significant byte
            int o = 0;
            int p = (int) start;
            while (o < n && p < end) {
                int h = f[p++];
                if (h >= 0) {
                    int len = h + 1;
                    if (p + len > end || o + len > n) {
                        throw new InvalidInputException(file, "corrupt RLE segment " + s + ": literal run overflows");
                    }
                    for (int k = 0; k < len; k++) {
                        out[(o++) * bpp + byteIndex] = f[p++];
                    }
                } else if (h != -128) {
                    int len = 1 - h;
                    if (p >= end || o + len > n) {
                        throw new InvalidInputException(file, "corrupt RLE segment " + s + ": replicate run overflows");
                    }
                    byte v = f[p++];
                    for (int k = 0; k < len; k++) {
                        out[(o++) * bpp + byteIndex] = v;
                    }
                }
            }
            if (o < n) {
                throw new InvalidInputException(file, "truncated RLE segment " + s + ": " + o + " of " + n + " bytes");
            }
        }
        return out;
    }

    private static long le32(byte[] b, int p) {
        return (b[p] & 0xffL) | (b[p + 1] & 0xffL) << 8 | (b[p + 2] & 0xffL) << 16 | (b[p + 3] & 0xffL) << 24;
    }
}
