package org.restorerwkv.io;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * NIfTI-1 and NIfTI-2 single files, {@code .nii} and {@code .nii.gz}, either byte order.
 *
 * <p>Reading: datatypes uint8, int8, int16, uint16, int32, uint32, float32, float64; scl_slope and
 * scl_inter applied (a slope of 0 or non-finite means no scaling, as in nibabel); 2-D or 3-D only
 * (dims 4..7 must be 1). The affine follows the NIfTI rules: sform if sform_code &gt; 0, else qform
 * if qform_code &gt; 0, else diag(pixdim) (method 1).
 *
 * <p>Writing: always little-endian float32 with scl_slope 1 and scl_inter 0, the voxel values
 * being already scaled (float32 keeps any restored value; re-quantising to the source datatype
 * would lose precision). Every other header field, extensions included, is copied from the source
 * header when the volume has one with the same dimensions (qform and sform kept bit for bit);
 * otherwise qform and sform (code 1, scanner) are derived from the volume's affine. The NIfTI
 * version is the source's (2 also when a dimension exceeds 32767).
 */
final class NiftiFormat {

    static final int DT_UINT8 = 2;
    static final int DT_INT16 = 4;
    static final int DT_INT32 = 8;
    static final int DT_FLOAT32 = 16;
    static final int DT_FLOAT64 = 64;
    static final int DT_INT8 = 256;
    static final int DT_UINT16 = 512;
    static final int DT_UINT32 = 768;

    private static final byte[] MAGIC2 = {'n', '+', '2', 0, '\r', '\n', 0x1a, '\n'};

    private NiftiFormat() {}

    /** True when the first bytes (decompressed if gzip) look like a NIfTI-1/2 header. */
    static boolean looksLikeNifti(byte[] head) {
        if (head.length < 348) {
            return false;
        }
        ByteBuffer b = ByteBuffer.wrap(head);
        for (ByteOrder o : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            int size = b.order(o).getInt(0);
            if (size == 348 && head[344] == 'n' && (head[345] == '+' || head[345] == 'i') && head[346] == '1') {
                return true;
            }
            if (size == 540 && head[4] == 'n' && head[5] == '+' && head[6] == '2') {
                return true;
            }
        }
        return false;
    }

    static boolean isGzip(byte[] head) {
        return head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
    }

    public static Volume read(Path file) throws IOException {
        return read(file, ReadLimits.DEFAULT);
    }

    /**
     * Reads a .nii or .nii.gz within {@code limits}; a .nii.gz is inflated to its end, so that its
     * CRC is checked, and refused where it inflates past the limit.
     */
    public static Volume read(Path file, ReadLimits limits) throws IOException {
        long fileSize = Files.size(file);
        byte[] magic;
        try (InputStream in = Files.newInputStream(file)) {
            magic = in.readNBytes(2);
        }
        boolean gz = isGzip(magic);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
                InputStream in = gz ? limits.bound(new GZIPInputStream(raw, 1 << 16), file, "the gzip stream") : raw) {
            Volume v = read(in, gz ? Long.MAX_VALUE : fileSize, file, limits);
            if (gz) {
                ReadLimits.drain(in); // the CRC and length in the gzip trailer are checked at the end
            }
            return v;
        } catch (ZipException | java.io.EOFException e) {
            throw new InvalidInputException(file, "corrupt gzip stream (" + e.getMessage() + ")", e);
        }
    }

    private static Volume read(InputStream in, long available, Path file, ReadLimits limits) throws IOException {
        byte[] first = StreamReads.readExactly(in, 4, file, "NIfTI header");
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        int sizeof = ByteBuffer.wrap(first).order(order).getInt();
        if (sizeof != 348 && sizeof != 540) {
            order = ByteOrder.BIG_ENDIAN;
            sizeof = ByteBuffer.wrap(first).order(order).getInt();
        }
        if (sizeof != 348 && sizeof != 540) {
            throw new InvalidInputException(file, "not a NIfTI file (sizeof_hdr is neither 348 nor 540)");
        }
        if (available < sizeof) {
            throw new InvalidInputException(file, "truncated NIfTI header: file has " + available + " bytes");
        }
        byte[] hb = new byte[sizeof];
        System.arraycopy(first, 0, hb, 0, 4);
        System.arraycopy(StreamReads.readExactly(in, sizeof - 4, file, "NIfTI header"), 0, hb, 4, sizeof - 4);
        ByteBuffer h = ByteBuffer.wrap(hb).order(order);
        NiftiHeader hdr = sizeof == 348 ? parse1(h, file) : parse2(h, file);
        hdr = withExtensions(hdr, in, available, file, limits);
        return decode(hdr, in, available, file, limits);
    }

    private static NiftiHeader parse1(ByteBuffer h, Path file) throws InvalidInputException {
        String magic = ascii(h, 344, 4);
        if (!magic.equals("n+1")) {
            throw new InvalidInputException(file, magic.equals("ni1")
                    ? "NIfTI-1 header/image pair (.hdr/.img) is not supported; convert to a single .nii"
                    : "not a NIfTI-1 file (magic '" + magic + "')");
        }
        long[] dim = new long[8];
        double[] pixdim = new double[8];
        for (int i = 0; i < 8; i++) {
            dim[i] = h.getShort(40 + 2 * i);
            pixdim[i] = h.getFloat(76 + 4 * i);
        }
        double[] srow = new double[12];
        for (int i = 0; i < 12; i++) {
            srow[i] = h.getFloat(280 + 4 * i);
        }
        return new NiftiHeader(1, h.order(), dim, pixdim, h.getShort(70), h.getShort(72), (long) h.getFloat(108),
                h.getFloat(112), h.getFloat(116), h.getShort(68),
                new double[] {h.getFloat(56), h.getFloat(60), h.getFloat(64)}, ascii(h, 328, 16),
                h.getShort(74), h.getShort(120), h.get(122) & 0xff, h.get(39) & 0xff, h.get(123) & 0xff,
                h.getFloat(124), h.getFloat(128), h.getFloat(132), h.getFloat(136), ascii(h, 148, 80),
                ascii(h, 228, 24), h.getShort(252), h.getShort(254), h.getFloat(256), h.getFloat(260),
                h.getFloat(264), h.getFloat(268), h.getFloat(272), h.getFloat(276), srow, List.of());
    }

    private static NiftiHeader parse2(ByteBuffer h, Path file) throws InvalidInputException {
        for (int i = 0; i < MAGIC2.length; i++) {
            if (h.get(4 + i) != MAGIC2[i]) {
                throw new InvalidInputException(file, "not a single-file NIfTI-2 (bad magic)");
            }
        }
        long[] dim = new long[8];
        double[] pixdim = new double[8];
        for (int i = 0; i < 8; i++) {
            dim[i] = h.getLong(16 + 8 * i);
            pixdim[i] = h.getDouble(104 + 8 * i);
        }
        double[] srow = new double[12];
        for (int i = 0; i < 12; i++) {
            srow[i] = h.getDouble(400 + 8 * i);
        }
        return new NiftiHeader(2, h.order(), dim, pixdim, h.getShort(12), h.getShort(14), h.getLong(168),
                h.getDouble(176), h.getDouble(184), h.getInt(504),
                new double[] {h.getDouble(80), h.getDouble(88), h.getDouble(96)}, ascii(h, 508, 16),
                h.getLong(224), h.getLong(232), h.getInt(496), h.get(524) & 0xff, h.getInt(500),
                h.getDouble(192), h.getDouble(200), h.getDouble(208), h.getDouble(216), ascii(h, 240, 80),
                ascii(h, 320, 24), h.getInt(344), h.getInt(348), h.getDouble(352), h.getDouble(360),
                h.getDouble(368), h.getDouble(376), h.getDouble(384), h.getDouble(392), srow, List.of());
    }

    /** Reads the 4-byte extension flag and the extensions between the header and vox_offset. */
    private static NiftiHeader withExtensions(NiftiHeader hdr, InputStream in, long available, Path file,
            ReadLimits limits) throws IOException {
        int hsize = hdr.version() == 1 ? 348 : 540;
        long gap = hdr.voxOffset() - hsize;
        if (hdr.voxOffset() < hsize) {
            throw new InvalidInputException(file, "vox_offset " + hdr.voxOffset() + " lies inside the header");
        }
        if (hdr.voxOffset() > available) {
            throw new InvalidInputException(file, "vox_offset " + hdr.voxOffset() + " is past the end of the file ("
                    + available + " bytes)");
        }
        limits.checkBytes(file, gap, "the NIfTI extension area (vox_offset " + hdr.voxOffset() + ")");
        if (gap < 4) {
            StreamReads.skipExactly(in, gap, file, "NIfTI header");
            return hdr;
        }
        byte[] rest = StreamReads.readExactly(in, gap, file, "NIfTI extensions");
        List<NiftiHeader.Extension> ext = new ArrayList<>();
        if (rest[0] != 0) {
            ByteBuffer b = ByteBuffer.wrap(rest).order(hdr.order());
            int pos = 4;
            while (pos + 8 <= rest.length) {
                int esize = b.getInt(pos);
                int ecode = b.getInt(pos + 4);
                if (esize < 8 || esize > rest.length - pos) {
                    break; // padding or a malformed chain: the image data offset is still trustworthy
                }
                ext.add(new NiftiHeader.Extension(ecode, Arrays.copyOfRange(rest, pos + 8, pos + esize)));
                pos += esize;
            }
        }
        return new NiftiHeader(hdr.version(), hdr.order(), hdr.dim(), hdr.pixdim(), hdr.datatype(), hdr.bitpix(),
                hdr.voxOffset(), hdr.sclSlope(), hdr.sclInter(), hdr.intentCode(), hdr.intentP(), hdr.intentName(),
                hdr.sliceStart(), hdr.sliceEnd(), hdr.sliceCode(), hdr.dimInfo(), hdr.xyztUnits(), hdr.calMax(),
                hdr.calMin(), hdr.sliceDuration(), hdr.toffset(), hdr.descrip(), hdr.auxFile(), hdr.qformCode(),
                hdr.sformCode(), hdr.quaternB(), hdr.quaternC(), hdr.quaternD(), hdr.qoffsetX(), hdr.qoffsetY(),
                hdr.qoffsetZ(), hdr.srow(), ext);
    }

    private static int bytesPer(int datatype) {
        return switch (datatype) {
            case DT_UINT8, DT_INT8 -> 1;
            case DT_INT16, DT_UINT16 -> 2;
            case DT_INT32, DT_UINT32, DT_FLOAT32 -> 4;
            case DT_FLOAT64 -> 8;
            default -> 0;
        };
    }

    private static Volume decode(NiftiHeader hdr, InputStream in, long available, Path file, ReadLimits limits)
            throws IOException {
        long[] dim = hdr.dim();
        if (dim[0] < 1 || dim[0] > 7) {
            throw new InvalidInputException(file, "invalid NIfTI dim[0] = " + dim[0]);
        }
        for (int i = 1; i <= dim[0]; i++) {
            if (dim[i] < 1) {
                throw new InvalidInputException(file, "invalid NIfTI dim[" + i + "] = " + dim[i]);
            }
            if (i > 3 && dim[i] > 1) {
                throw new InvalidInputException(file, "NIfTI with " + dim[0] + " dimensions (dim[" + i + "] = "
                        + dim[i] + ") is not supported; only 2-D and 3-D volumes are");
            }
        }
        int bpv = bytesPer(hdr.datatype());
        if (bpv == 0) {
            throw new InvalidInputException(file, "unsupported NIfTI datatype " + hdr.datatype());
        }
        long[] s = hdr.spatialDims();
        long n;
        try {
            n = Math.multiplyExact(Math.multiplyExact(s[0], s[1]), s[2]);
        } catch (ArithmeticException e) {
            throw new InvalidInputException(file, "NIfTI dimensions overflow");
        }
        limits.checkVoxels(file, n, s[0] + "x" + s[1] + "x" + s[2]);
        long bytes = n * bpv;
        limits.checkBytes(file, bytes, "the NIfTI image data");
        if (n > Integer.MAX_VALUE - 8 || bytes > available - hdr.voxOffset()) {
            throw new InvalidInputException(file, "truncated NIfTI image data: dimensions " + s[0] + "x" + s[1] + "x"
                    + s[2] + " need " + bytes + " bytes after offset " + hdr.voxOffset() + ", file has " + available);
        }
        if (s[0] > Integer.MAX_VALUE || s[1] > Integer.MAX_VALUE || s[2] > Integer.MAX_VALUE) {
            throw new InvalidInputException(file, "NIfTI dimension too large");
        }
        byte[] raw = StreamReads.readExactly(in, bytes, file, "NIfTI image data");
        ByteBuffer b = ByteBuffer.wrap(raw).order(hdr.order());
        double slope = hdr.sclSlope();
        boolean scale = slope != 0 && Double.isFinite(slope);
        double inter = scale && Double.isFinite(hdr.sclInter()) ? hdr.sclInter() : 0;
        if (!scale) {
            slope = 1;
        }
        float[] v = new float[(int) n];
        long madeNonFinite = 0;
        for (int i = 0; i < v.length; i++) {
            double x = switch (hdr.datatype()) {
                case DT_UINT8 -> raw[i] & 0xff;
                case DT_INT8 -> raw[i];
                case DT_INT16 -> b.getShort(2 * i);
                case DT_UINT16 -> b.getShort(2 * i) & 0xffff;
                case DT_INT32 -> b.getInt(4 * i);
                case DT_UINT32 -> b.getInt(4 * i) & 0xffffffffL;
                case DT_FLOAT32 -> b.getFloat(4 * i);
                default -> b.getDouble(8 * i);
            };
            v[i] = (float) (x * slope + inter);
            if (!Float.isFinite(v[i]) && Double.isFinite(x)) {
                madeNonFinite++;
            }
        }
        if (madeNonFinite > 0) {
            // a silent wrong answer is worse than a refusal: float32 cannot hold what the file means
            throw new InvalidInputException(file, madeNonFinite + " finite voxel value(s) become infinite or NaN as float32"
                    + (scale ? " after scaling (scl_slope " + hdr.sclSlope() + ", scl_inter " + hdr.sclInter() + ")"
                            : " (beyond the float32 range)"));
        }
        double[] spacing = {abs1(hdr.pixdim()[3]), abs1(hdr.pixdim()[2]), abs1(hdr.pixdim()[1])};
        return new Volume((int) s[2], (int) s[1], (int) s[0], v, spacing, hdr.affine(), hdr, List.of());
    }

    private static double abs1(double p) {
        return p != 0 && Double.isFinite(p) ? Math.abs(p) : 1;
    }

    /** Writes .nii, or .nii.gz when the file name ends in ".gz". */
    public static void write(Path file, Volume v) throws IOException {
        boolean gz = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
        byte[] header = header(v);
        AtomicFiles.write(file, out -> {
            OutputStream o = gz ? new GZIPOutputStream(out, 1 << 16) : out;
            o.write(header);
            ByteBuffer bb = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (float x : v.voxels()) {
                if (!bb.hasRemaining()) {
                    o.write(bb.array(), 0, bb.position());
                    bb.clear();
                }
                bb.putFloat(x);
            }
            o.write(bb.array(), 0, bb.position());
            if (gz) {
                ((GZIPOutputStream) o).finish();
            }
        });
    }

    /** Header, extension flag and extensions, little endian, ready to be followed by float32 data. */
    static byte[] header(Volume v) {
        NiftiHeader src = v.nifti();
        long[] want = {v.width(), v.height(), v.depth()};
        boolean same = src != null && Arrays.equals(src.spatialDims(), want);
        int version = src != null ? src.version() : 1;
        if (v.width() > Short.MAX_VALUE || v.height() > Short.MAX_VALUE || v.depth() > Short.MAX_VALUE) {
            version = 2;
        }
        // geometry: bit-exact from the source when the grid is unchanged, else from the volume's affine
        double[] pixdim = new double[8];
        int qformCode;
        int sformCode;
        double[] quat;
        double[] srow;
        if (same) {
            pixdim = src.pixdim().clone();
            qformCode = src.qformCode();
            sformCode = src.sformCode();
            quat = new double[] {src.quaternB(), src.quaternC(), src.quaternD(), src.qoffsetX(), src.qoffsetY(),
                src.qoffsetZ()};
            srow = src.srow().clone();
        } else {
            double[] a = v.affine();
            double[] q = AffineMath.toQuaternion(a);
            pixdim[0] = q[6];
            pixdim[1] = q[7];
            pixdim[2] = q[8];
            pixdim[3] = q[9];
            quat = Arrays.copyOf(q, 6);
            srow = Arrays.copyOf(a, 12);
            qformCode = src != null && src.qformCode() > 0 ? src.qformCode() : 1;
            sformCode = src != null && src.sformCode() > 0 ? src.sformCode() : 1;
        }
        int dim0 = v.depth() > 1 ? 3 : 2;
        long[] dim = {dim0, v.width(), v.height(), v.depth(), 1, 1, 1, 1};
        if (same && src.dim()[0] == 3) {
            dim[0] = 3; // keep a 3-D file with one slice 3-D
        }
        for (int i = 4; i < 8; i++) {
            pixdim[i] = same ? pixdim[i] : 0;
        }
        List<NiftiHeader.Extension> ext = src != null ? src.extensions() : List.of();
        int extBytes = 0;
        for (NiftiHeader.Extension e : ext) {
            extBytes += paddedExtensionSize(e);
        }
        int hsize = version == 1 ? 348 : 540;
        long voxOffset = hsize + 4 + extBytes; // both 352 and 544 are multiples of 16, as are extension sizes
        ByteBuffer h = ByteBuffer.allocate((int) voxOffset).order(ByteOrder.LITTLE_ENDIAN);
        String descrip = src != null ? src.descrip() : "Restore-RWKV";
        String aux = src != null ? src.auxFile() : "";
        String intentName = src != null ? src.intentName() : "";
        int xyzt = src != null ? src.xyztUnits() : 2 | 8; // mm, s
        if (version == 1) {
            h.putInt(0, 348);
            h.put(39, (byte) (src != null ? src.dimInfo() : 0));
            for (int i = 0; i < 8; i++) {
                h.putShort(40 + 2 * i, (short) dim[i]);
                h.putFloat(76 + 4 * i, (float) pixdim[i]);
            }
            if (src != null) {
                h.putFloat(56, (float) src.intentP()[0]);
                h.putFloat(60, (float) src.intentP()[1]);
                h.putFloat(64, (float) src.intentP()[2]);
                h.putShort(68, (short) src.intentCode());
                h.putShort(74, (short) src.sliceStart());
                h.putShort(120, (short) src.sliceEnd());
                h.put(122, (byte) src.sliceCode());
                h.putFloat(124, (float) src.calMax());
                h.putFloat(128, (float) src.calMin());
                h.putFloat(132, (float) src.sliceDuration());
                h.putFloat(136, (float) src.toffset());
            }
            h.putShort(70, (short) DT_FLOAT32);
            h.putShort(72, (short) 32);
            h.putFloat(108, voxOffset);
            h.putFloat(112, 1f);
            h.putFloat(116, 0f);
            h.put(123, (byte) xyzt);
            putAscii(h, 148, 80, descrip);
            putAscii(h, 228, 24, aux);
            h.putShort(252, (short) qformCode);
            h.putShort(254, (short) sformCode);
            for (int i = 0; i < 6; i++) {
                h.putFloat(256 + 4 * i, (float) quat[i]);
            }
            for (int i = 0; i < 12; i++) {
                h.putFloat(280 + 4 * i, (float) srow[i]);
            }
            putAscii(h, 328, 16, intentName);
            h.put(344, (byte) 'n').put(345, (byte) '+').put(346, (byte) '1').put(347, (byte) 0);
        } else {
            h.putInt(0, 540);
            for (int i = 0; i < MAGIC2.length; i++) {
                h.put(4 + i, MAGIC2[i]);
            }
            h.putShort(12, (short) DT_FLOAT32);
            h.putShort(14, (short) 32);
            for (int i = 0; i < 8; i++) {
                h.putLong(16 + 8 * i, dim[i]);
                h.putDouble(104 + 8 * i, pixdim[i]);
            }
            if (src != null) {
                h.putDouble(80, src.intentP()[0]);
                h.putDouble(88, src.intentP()[1]);
                h.putDouble(96, src.intentP()[2]);
                h.putDouble(192, src.calMax());
                h.putDouble(200, src.calMin());
                h.putDouble(208, src.sliceDuration());
                h.putDouble(216, src.toffset());
                h.putLong(224, src.sliceStart());
                h.putLong(232, src.sliceEnd());
                h.putInt(496, src.sliceCode());
                h.putInt(504, src.intentCode());
                h.put(524, (byte) src.dimInfo());
            }
            h.putLong(168, voxOffset);
            h.putDouble(176, 1);
            h.putDouble(184, 0);
            putAscii(h, 240, 80, descrip);
            putAscii(h, 320, 24, aux);
            h.putInt(344, qformCode);
            h.putInt(348, sformCode);
            for (int i = 0; i < 6; i++) {
                h.putDouble(352 + 8 * i, quat[i]);
            }
            for (int i = 0; i < 12; i++) {
                h.putDouble(400 + 8 * i, srow[i]);
            }
            h.putInt(500, xyzt);
            putAscii(h, 508, 16, intentName);
        }
        int pos = hsize;
        h.put(pos, (byte) (ext.isEmpty() ? 0 : 1));
        pos += 4;
        for (NiftiHeader.Extension e : ext) {
            int size = paddedExtensionSize(e);
            h.putInt(pos, size);
            h.putInt(pos + 4, e.code());
            h.put(pos + 8, e.data());
            pos += size;
        }
        return h.array();
    }

    private static int paddedExtensionSize(NiftiHeader.Extension e) {
        return (e.data().length + 8 + 15) / 16 * 16;
    }

    private static String ascii(ByteBuffer h, int off, int len) {
        int end = 0;
        while (end < len && h.get(off + end) != 0) {
            end++;
        }
        byte[] b = new byte[end];
        h.get(off, b);
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static void putAscii(ByteBuffer h, int off, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        h.put(off, b, 0, Math.min(b.length, len - 1));
    }
}
