package org.restorerwkv.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * NumPy {@code .npy} (format versions 1-3) and {@code .npz} (a zip of .npy files).
 *
 * <p>Reads bool, int8/16/32/64, uint8/16/32 and float16/32/64 in either byte order and in C or
 * Fortran order, converting to float32 in C order; writes little-endian float32, version 1.0.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([a-zA-Z])(\\d+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    public static HostTensor read(Path file) throws IOException {
        return read(file, ReadLimits.DEFAULT);
    }

    /** Reads a .npy file within {@code limits}. */
    public static HostTensor read(Path file, ReadLimits limits) throws IOException {
        long size = Files.size(file);
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, size, file, limits);
        }
    }

    /** Reads one array from a stream holding at most {@code available} bytes. */
    public static HostTensor read(InputStream in, long available, Path file) throws IOException {
        return read(in, available, file, ReadLimits.DEFAULT);
    }

    /** Reads one array from a stream holding at most {@code available} bytes, within {@code limits}. */
    public static HostTensor read(InputStream in, long available, Path file, ReadLimits limits) throws IOException {
        byte[] pre = in.readNBytes(10);
        if (pre.length < 10 || !startsWithMagic(pre)) {
            throw new InvalidInputException(file, "not a NumPy .npy file (bad magic)");
        }
        int major = pre[6] & 0xff;
        int headerLen;
        int prefix;
        if (major == 1) {
            headerLen = (pre[8] & 0xff) | (pre[9] & 0xff) << 8;
            prefix = 10;
        } else if (major == 2 || major == 3) {
            byte[] more = in.readNBytes(2);
            if (more.length < 2) {
                throw new InvalidInputException(file, "truncated .npy header");
            }
            long len = (pre[8] & 0xffL) | (pre[9] & 0xffL) << 8 | (more[0] & 0xffL) << 16 | (more[1] & 0xffL) << 24;
            if (len > 1 << 20) {
                throw new InvalidInputException(file, ".npy header length " + len + " is implausible");
            }
            headerLen = (int) len;
            prefix = 12;
        } else {
            throw new InvalidInputException(file, "unsupported .npy format version " + major);
        }
        if (headerLen > available - prefix) {
            throw new InvalidInputException(file, "truncated .npy header");
        }
        byte[] hb = in.readNBytes(headerLen);
        if (hb.length < headerLen) {
            throw new InvalidInputException(file, "truncated .npy header");
        }
        String header = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw new InvalidInputException(file, "malformed .npy header: " + header.trim());
        }
        ByteOrder order = d.group(1).equals(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        char kind = d.group(2).charAt(0);
        int width = Integer.parseInt(d.group(3));
        checkDtype(file, kind, width, d.group(0));
        boolean fortran = f.group(1).equals("True");
        long[] shape = parseShape(file, s.group(1));
        long n;
        try {
            n = HostTensor.numel(shape);
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw new InvalidInputException(file, "invalid .npy shape (" + s.group(1) + ")");
        }
        limits.checkVoxels(file, n, "shape (" + s.group(1).trim() + ")");
        long bytes = n * width;
        limits.checkBytes(file, bytes, "the .npy data");
        if (n > Integer.MAX_VALUE - 8 || bytes > available - prefix - headerLen) {
            throw new InvalidInputException(file, "truncated .npy data: shape (" + s.group(1).trim()
                    + ") needs " + bytes + " bytes, " + Math.max(0, available - prefix - headerLen) + " present");
        }
        byte[] raw = in.readNBytes((int) bytes);
        if (raw.length < bytes) {
            throw new InvalidInputException(file, "truncated .npy data: " + raw.length + " of " + bytes + " bytes");
        }
        float[] data = decode(ByteBuffer.wrap(raw).order(order), kind, width, (int) n);
        if (kind == 'f' && width == 8) {
            long over = countNarrowedToInfinity(ByteBuffer.wrap(raw).order(order), data);
            if (over > 0) {
                throw new InvalidInputException(file, over + " float64 value(s) lie beyond the float32 range"
                        + " and would become infinite");
            }
        }
        if (fortran && shape.length > 1) {
            data = fortranToC(data, shape);
        }
        return new HostTensor(shape, data);
    }

    /** Values whose float64 is finite but whose float32 is infinite. */
    private static long countNarrowedToInfinity(ByteBuffer b, float[] data) {
        long over = 0;
        for (int i = 0; i < data.length; i++) {
            if (Float.isInfinite(data[i]) && Double.isFinite(b.getDouble(8 * i))) {
                over++;
            }
        }
        return over;
    }

    /** Reads every array of an .npz archive, keyed by name without the ".npy" suffix. */
    public static Map<String, HostTensor> readNpz(Path file) throws IOException {
        return readNpz(file, ReadLimits.DEFAULT);
    }

    /**
     * Reads every array of an .npz archive within {@code limits} (all members together); each
     * member is read to its end and its CRC-32 and size compared with the archive's directory.
     */
    public static Map<String, HostTensor> readNpz(Path file, ReadLimits limits) throws IOException {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            List<? extends ZipEntry> entries = new ArrayList<>(zip.stream().toList());
            long total = 0;
            for (ZipEntry e : entries) {
                if (!e.isDirectory()) {
                    total += Math.max(0, e.getSize());
                    limits.checkBytes(file, total, ".npz member '" + e.getName() + "' (with the members before it)");
                }
            }
            for (ZipEntry e : entries) {
                String name = e.getName();
                if (e.isDirectory()) {
                    continue;
                }
                long sz = e.getSize() >= 0 ? e.getSize() : Long.MAX_VALUE;
                String key = name.endsWith(".npy") ? name.substring(0, name.length() - 4) : name;
                if (out.containsKey(key)) {
                    throw new InvalidInputException(file, ".npz holds two members named '" + name + "'");
                }
                java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                InputStream bounded = e.getSize() >= 0
                        ? ReadLimits.bound(zip.getInputStream(e), e.getSize(), file, ".npz member '" + name
                                + "' inflates past the " + e.getSize() + " bytes its directory entry declares")
                        : limits.bound(zip.getInputStream(e), file, ".npz member '" + name + "'");
                try (java.util.zip.CheckedInputStream checked = new java.util.zip.CheckedInputStream(bounded, crc)) {
                    out.put(key, read(checked, sz, file, limits));
                    ReadLimits.drain(checked);
                    if (e.getCrc() >= 0 && crc.getValue() != e.getCrc()) {
                        throw new InvalidInputException(file, ".npz member '" + name + "' fails its CRC-32 check"
                                + " (the archive is corrupt)");
                    }
                } catch (java.io.EOFException x) {
                    throw new InvalidInputException(file, ".npz member '" + name + "' is truncated", x);
                }
            }
        } catch (java.util.zip.ZipException | java.io.EOFException e) {
            throw new InvalidInputException(file, "not a readable .npz archive (" + e + ")", e);
        }
        return out;
    }

    public static void write(Path file, HostTensor t) throws IOException {
        AtomicFiles.write(file, out -> write(out, t));
    }

    /** Writes little-endian float32, C order, format version 1.0. */
    public static void write(OutputStream out, HostTensor t) throws IOException {
        StringBuilder shape = new StringBuilder("(");
        for (long d : t.shape()) {
            shape.append(d).append(", ");
        }
        if (t.shape().length > 1) {
            shape.setLength(shape.length() - 2);
        } else if (t.shape().length == 1) {
            shape.setLength(shape.length() - 1);
        }
        shape.append(')');
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = MAGIC.length + 4 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        h.write(MAGIC);
        h.write(1);
        h.write(0);
        int len = dict.length() + pad + 1;
        h.write(len & 0xff);
        h.write(len >> 8 & 0xff);
        h.write(dict.getBytes(StandardCharsets.ISO_8859_1));
        for (int i = 0; i < pad; i++) {
            h.write(' ');
        }
        h.write('\n');
        out.write(h.toByteArray());
        ByteBuffer bb = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : t.data()) {
            if (!bb.hasRemaining()) {
                out.write(bb.array(), 0, bb.position());
                bb.clear();
            }
            bb.putFloat(v);
        }
        out.write(bb.array(), 0, bb.position());
    }

    private static boolean startsWithMagic(byte[] b) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (b[i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    private static void checkDtype(Path file, char kind, int width, String descr) throws InvalidInputException {
        boolean ok = switch (kind) {
            case 'f' -> width == 2 || width == 4 || width == 8;
            case 'i' -> width == 1 || width == 2 || width == 4 || width == 8;
            case 'u' -> width == 1 || width == 2 || width == 4;
            case 'b' -> width == 1;
            default -> false;
        };
        if (!ok) {
            throw new InvalidInputException(file, "unsupported .npy dtype " + descr.replaceAll(".*'(.+)'", "$1"));
        }
    }

    private static long[] parseShape(Path file, String s) throws InvalidInputException {
        List<Long> dims = new ArrayList<>();
        for (String part : s.split(",")) {
            String p = part.trim().toUpperCase(Locale.ROOT).replace("L", "");
            if (!p.isEmpty()) {
                try {
                    dims.add(Long.parseLong(p));
                } catch (NumberFormatException e) {
                    throw new InvalidInputException(file, "malformed .npy shape (" + s + ")");
                }
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    private static float[] decode(ByteBuffer b, char kind, int width, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (kind) {
                case 'f' -> width == 4 ? b.getFloat() : width == 8 ? (float) b.getDouble() : Float16.halfToFloat(b.getShort());
                case 'i' -> switch (width) {
                    case 1 -> b.get();
                    case 2 -> b.getShort();
                    case 4 -> b.getInt();
                    default -> b.getLong();
                };
                case 'u' -> switch (width) {
                    case 1 -> b.get() & 0xff;
                    case 2 -> b.getShort() & 0xffff;
                    default -> b.getInt() & 0xffffffffL;
                };
                default -> b.get() != 0 ? 1f : 0f;
            };
        }
        return out;
    }

    private static float[] fortranToC(float[] f, long[] shape) {
        int r = shape.length;
        float[] c = new float[f.length];
        int[] idx = new int[r];
        long[] fStride = new long[r];
        long st = 1;
        for (int k = 0; k < r; k++) {
            fStride[k] = st;
            st *= shape[k];
        }
        for (int i = 0; i < c.length; i++) {
            long off = 0;
            for (int k = 0; k < r; k++) {
                off += idx[k] * fStride[k];
            }
            c[i] = f[(int) off];
            for (int k = r - 1; k >= 0; k--) {
                if (++idx[k] < shape[k]) {
                    break;
                }
                idx[k] = 0;
            }
        }
        return c;
    }
}
