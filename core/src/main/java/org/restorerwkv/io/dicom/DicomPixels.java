package org.restorerwkv.io.dicom;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.restorerwkv.io.InvalidInputException;

/**
 * Decodes the Pixel Data of one DICOM dataset to float32 frames: native (uncompressed), RLE
 * Lossless (PS3.5 Annex G), or JPEG / JPEG 2000 through {@link DicomCodecs}; grey only, 8/16/32
 * bits allocated, BitsStored &lt; BitsAllocated with sign extension when PixelRepresentation is 1,
 * then the modality LUT (RescaleSlope/RescaleIntercept, per frame when the caller gives them) is
 * applied, so CT comes out in Hounsfield units. MONOCHROME1 values are not inverted (as pydicom).
 *
 * <p>Every size is checked before anything is allocated: the declared image against
 * {@link #MAX_VOXELS}, native Pixel Data against the declared frames (one pad byte allowed),
 * each decoded frame against the declared rows and columns.
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
    static final int EXTENDED_OFFSETS = 0x7FE00001;
    static final int EXTENDED_LENGTHS = 0x7FE00002;

    /**
     * Budget for one decoded DICOM image (all frames): 2^29 voxels, 2 GiB as float32 (a
     * 512 x 512 x 2048 volume). A file declaring more is refused before anything is decoded.
     */
    static final long MAX_VOXELS = 1L << 29;

    private DicomPixels() {}

    /** Frame geometry and encoding read from the image pixel module. */
    record Layout(int rows, int cols, int frames, int allocated, int stored, int highBit, boolean signed) {
        int frameSize() {
            return rows * cols;
        }
    }

    /** A frame's modality LUT. */
    record Rescale(double slope, double intercept) {
        static final Rescale IDENTITY = new Rescale(1, 0);
    }

    /** Rows x Columns x NumberOfFrames, strictly parsed and checked against {@link #MAX_VOXELS}. */
    static long budgetedVoxels(DicomDataset ds, Path file) throws InvalidInputException {
        long rows = ds.integer(ROWS, 0);
        long cols = ds.integer(COLUMNS, 0);
        long frames = ds.integer(FRAMES, 1);
        long samples = ds.integer(SAMPLES, 1);
        if (rows < 1 || cols < 1 || frames < 1 || samples < 1) {
            throw new InvalidInputException(file, "invalid DICOM image size: Rows " + rows + ", Columns " + cols
                    + ", NumberOfFrames " + frames + ", SamplesPerPixel " + samples);
        }
        long n = rows * cols * frames * samples;
        if (rows > 65535 || cols > 65535 || frames > MAX_VOXELS || n > MAX_VOXELS) {
            throw new InvalidInputException(file, "DICOM image of " + rows + " x " + cols + " x " + frames
                    + " frames exceeds the budget of " + MAX_VOXELS + " voxels");
        }
        return n;
    }

    static Layout layout(DicomDataset ds, Path file) throws InvalidInputException {
        if (ds.get(DicomParser.PIXEL_DATA) == null) {
            throw new InvalidInputException(file, "DICOM file has no Pixel Data (7FE0,0010)");
        }
        budgetedVoxels(ds, file);
        int rows = ds.integer(ROWS, 0);
        int cols = ds.integer(COLUMNS, 0);
        int samples = ds.integer(SAMPLES, 1);
        int frames = ds.integer(FRAMES, 1);
        int allocated = ds.integer(BITS_ALLOCATED, 0);
        int stored = ds.integer(BITS_STORED, allocated);
        int high = ds.integer(HIGH_BIT, stored - 1);
        int rep = ds.integer(PIXEL_REP, 0);
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
            throw new InvalidInputException(file, "unsupported DICOM " + DicomDictionary.describe(BITS_ALLOCATED)
                    + " " + allocated + " (8, 16 or 32 are read)");
        }
        if (stored < 1 || stored > allocated || high < stored - 1 || high >= allocated) {
            throw new InvalidInputException(file, "inconsistent DICOM bits: BitsAllocated " + allocated
                    + ", BitsStored " + stored + ", HighBit " + high);
        }
        if (rep != 0 && rep != 1) {
            throw new InvalidInputException(file, DicomDictionary.describe(PIXEL_REP) + " value " + rep
                    + " is neither 0 (unsigned) nor 1 (signed)");
        }
        return new Layout(rows, cols, frames, allocated, stored, high, rep == 1);
    }

    /** The dataset's own modality LUT (RescaleSlope / RescaleIntercept), identity when absent. */
    static Rescale rescale(DicomDataset ds, Path file) throws InvalidInputException {
        double slope = ds.number(SLOPE, 1);
        double inter = ds.number(INTERCEPT, 0);
        if (slope == 0) {
            throw new InvalidInputException(file, DicomDictionary.describe(SLOPE) + " value '" + ds.string(SLOPE)
                    + "' is zero");
        }
        return new Rescale(slope, inter);
    }

    /** All frames of the dataset, each rows*cols values in row-major order, rescaled by the dataset's LUT. */
    static List<float[]> decode(DicomDataset ds, Path file) throws InvalidInputException {
        Layout l = layout(ds, file);
        Rescale[] r = new Rescale[l.frames()];
        Arrays.fill(r, rescale(ds, file));
        return decode(ds, file, r);
    }

    /** All frames, frame f rescaled by {@code rescale[f]}. */
    static List<float[]> decode(DicomDataset ds, Path file, Rescale[] rescale) throws InvalidInputException {
        String ts = ds.transferSyntax();
        if (!DicomTransferSyntax.readable(ts)) {
            throw new InvalidInputException(file, "unsupported DICOM transfer syntax " + DicomTransferSyntax.describe(ts)
                    + DicomTransferSyntax.whyNot(ts));
        }
        Layout l = layout(ds, file);
        DicomElement px = ds.get(DicomParser.PIXEL_DATA);
        int bpp = l.allocated() / 8;
        int frameBytes = l.frameSize() * bpp;
        List<byte[]> raw = new ArrayList<>();
        ByteOrder order = ds.pixelOrder();
        if (DicomTransferSyntax.isEncapsulated(ts)) {
            if (!px.isEncapsulated()) {
                throw new InvalidInputException(file, "transfer syntax " + DicomTransferSyntax.describe(ts)
                        + " but Pixel Data is not encapsulated");
            }
            List<byte[]> frames = frames(ds, px.fragments(), l.frames(), ts, file);
            for (int f = 0; f < frames.size(); f++) {
                raw.add(ts.equals(DicomTransferSyntax.RLE) ? rleDecode(frames.get(f), l, f, file)
                        : DicomCodecs.decode(frames.get(f), ts, l, f, file));
            }
            order = ByteOrder.LITTLE_ENDIAN; // both assemble little-endian samples
        } else {
            if (px.isEncapsulated()) {
                throw new InvalidInputException(file, "encapsulated Pixel Data in uncompressed transfer syntax " + ts);
            }
            byte[] v = px.value();
            long need = (long) frameBytes * l.frames();
            if (v.length < need || v.length > need + 1) {
                throw new InvalidInputException(file, (v.length < need ? "truncated " : "")
                        + DicomDictionary.describe(DicomParser.PIXEL_DATA) + " holds " + v.length + " bytes; "
                        + DicomDictionary.describe(FRAMES) + " " + l.frames() + " of " + l.rows() + "x" + l.cols()
                        + "x" + l.allocated() + " bits need " + need + (v.length > need ? " (one pad byte allowed)" : ""));
            }
            for (int f = 0; f < l.frames(); f++) {
                raw.add(Arrays.copyOfRange(v, f * frameBytes, (f + 1) * frameBytes));
            }
        }
        List<float[]> out = new ArrayList<>();
        int shift = l.highBit() + 1 - l.stored();
        long mask = (1L << l.stored()) - 1;
        long signBit = 1L << (l.stored() - 1);
        for (int f = 0; f < raw.size(); f++) {
            byte[] r = raw.get(f);
            double slope = rescale[f].slope();
            double inter = rescale[f].intercept();
            float[] vals = new float[l.frameSize()];
            for (int i = 0; i < vals.length; i++) {
                long u = sample(r, i, bpp, order);
                long s = (u >>> shift) & mask;
                if (l.signed() && (s & signBit) != 0) {
                    s -= 1L << l.stored(); // sign-extend BitsStored bits
                }
                vals[i] = (float) (s * slope + inter);
            }
            out.add(vals);
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

    /**
     * Groups fragments into frames (PS3.5 A.4): one frame takes them all; else the extended offset
     * table (7FE0,0001), else the basic offset table, else one fragment per frame, else the
     * fragments that start a codestream (JPEG SOI, JPEG 2000 SOC).
     */
    static List<byte[]> frames(DicomDataset ds, List<byte[]> frags, int frames, String ts, Path file)
            throws InvalidInputException {
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
        long[] offsets = null;
        String table = null;
        DicomElement eot = ds.get(EXTENDED_OFFSETS);
        if (eot != null && eot.value() != null && eot.value().length > 0) {
            if (bot.length != 0) {
                throw new InvalidInputException(file, "both a basic and an extended offset table (PS3.5 A.4 allows one)");
            }
            if (eot.value().length != 8L * frames) {
                throw new InvalidInputException(file, "extended offset table (7FE0,0001) holds " + eot.value().length / 8
                        + " offsets for " + frames + " frames");
            }
            offsets = new long[frames];
            for (int f = 0; f < frames; f++) {
                offsets[f] = le32(eot.value(), 8 * f) | le32(eot.value(), 8 * f + 4) << 32;
            }
            table = "extended offset table";
        } else if (bot.length > 0) {
            if (bot.length != 4L * frames) {
                throw new InvalidInputException(file, "basic offset table holds " + bot.length / 4 + " offsets for "
                        + frames + " frames");
            }
            offsets = new long[frames];
            for (int f = 0; f < frames; f++) {
                offsets[f] = le32(bot, 4 * f);
            }
            table = "basic offset table";
        }
        if (offsets != null) {
            // frame offsets count from the first fragment's item tag; map them to fragment indexes
            long[] starts = new long[data.size()];
            long off = 0;
            for (int i = 0; i < data.size(); i++) {
                starts[i] = off;
                off += 8 + data.get(i).length;
            }
            int[] first = new int[frames + 1];
            for (int f = 0; f < frames; f++) {
                int idx = Arrays.binarySearch(starts, offsets[f]);
                if (idx < 0) {
                    throw new InvalidInputException(file, table + " entry " + offsets[f] + " of frame " + (f + 1)
                            + " does not start a fragment");
                }
                first[f] = idx;
            }
            first[frames] = data.size();
            for (int f = 0; f < frames; f++) {
                if (first[f + 1] <= first[f]) {
                    throw new InvalidInputException(file, table + " is not increasing at frame " + (f + 1));
                }
                out.add(concat(data, first[f], first[f + 1]));
            }
            return out;
        }
        if (data.size() == frames) {
            out.addAll(data);
            return out;
        }
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
            if (DicomCodecs.startsCodestream(data.get(i), ts)) {
                starts.add(i);
            }
        }
        if (starts.size() != frames || starts.get(0) != 0) {
            throw new InvalidInputException(file, data.size() + " pixel data fragments for " + frames
                    + " frames and no offset table to group them");
        }
        starts.add(data.size());
        for (int f = 0; f < frames; f++) {
            out.add(concat(data, starts.get(f), starts.get(f + 1)));
        }
        return out;
    }

    private static byte[] concat(List<byte[]> parts, int from, int to) {
        if (to - from == 1) {
            return parts.get(from);
        }
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
     * little-endian samples. A segment that decodes to more or fewer bytes than the frame holds is
     * an error.
     */
    static byte[] rleDecode(byte[] f, Layout l, int frame, Path file) throws InvalidInputException {
        int bpp = l.allocated() / 8;
        String where = "RLE frame " + (frame + 1);
        if (f.length < 64) {
            throw new InvalidInputException(file, "truncated " + where + ": header needs 64 bytes, " + f.length + " present");
        }
        long count = le32(f, 0);
        if (count != bpp) {
            throw new InvalidInputException(file, where + " has " + count + " segments, expected " + bpp
                    + " for " + l.allocated() + "-bit greyscale");
        }
        int n = l.frameSize();
        byte[] out = new byte[n * bpp];
        for (int s = 0; s < count; s++) {
            long start = le32(f, 4 + 4 * s);
            long end = s + 1 < count ? le32(f, 8 + 4 * s) : f.length;
            if (start < 64 || start > end || end > f.length) {
                throw new InvalidInputException(file, "corrupt " + where + " header: segment " + s + " spans " + start
                        + ".." + end + " in a " + f.length + "-byte frame");
            }
            int byteIndex = bpp - 1 - s; // segment 0 holds the most significant byte
            int o = 0;
            int p = (int) start;
            while (p < end) {
                int h = f[p++];
                if (h >= 0) {
                    int len = h + 1;
                    if (p + len > end) {
                        throw new InvalidInputException(file, "corrupt " + where + " segment " + s
                                + ": literal run of " + len + " bytes passes the segment's end");
                    }
                    if (o + len > n) {
                        throw overrun(file, where, s, o + len, n);
                    }
                    for (int k = 0; k < len; k++) {
                        out[(o++) * bpp + byteIndex] = f[p++];
                    }
                } else if (h != -128) {
                    int len = 1 - h;
                    if (p >= end) {
                        throw new InvalidInputException(file, "corrupt " + where + " segment " + s
                                + ": replicate run without its byte");
                    }
                    if (o + len > n) {
                        throw overrun(file, where, s, o + len, n);
                    }
                    byte v = f[p++];
                    for (int k = 0; k < len; k++) {
                        out[(o++) * bpp + byteIndex] = v;
                    }
                }
                if (o == n) {
                    // the rest of the segment may only be padding (one byte to even length, or no-op codes)
                    while (p < end && (f[p] == (byte) -128 || (p == end - 1 && f[p] == 0))) {
                        p++;
                    }
                    if (p < end) {
                        throw overrun(file, where, s, n + 1, n);
                    }
                }
            }
            if (o < n) {
                throw new InvalidInputException(file, "truncated " + where + " segment " + s + ": " + o + " of " + n + " bytes");
            }
        }
        return out;
    }

    private static InvalidInputException overrun(Path file, String where, int s, int reached, int n) {
        return new InvalidInputException(file, "corrupt " + where + " segment " + s + " decodes past the end of its"
                + " frame (" + n + " pixels of Rows x Columns; at least " + reached + " decoded)");
    }

    static long le32(byte[] b, int p) {
        return (b[p] & 0xffL) | (b[p + 1] & 0xffL) << 8 | (b[p + 2] & 0xffL) << 16 | (b[p + 3] & 0xffL) << 24;
    }
}
