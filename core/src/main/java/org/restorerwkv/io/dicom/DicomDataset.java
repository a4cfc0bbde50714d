package org.restorerwkv.io.dicom;

import org.restorerwkv.io.InvalidInputException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The elements of one DICOM dataset (one file or one sequence item), ordered by tag, with typed
 * accessors. String values are decoded as ISO-8859-1 for interpretation only; the raw bytes are
 * kept so that copying an element preserves its character set.
 *
 * <p>Numbers are read strictly: a DS or IS value that is not a decimal or integer string as PS3.5
 * 6.2 defines it is an error naming the file, the tag and the value, never a default. Not thread
 * safe while being filled; read-only use from several threads is safe.
 */
public final class DicomDataset {

    private final TreeMap<Integer, DicomElement> elements = new TreeMap<>(Integer::compareUnsigned);
    private String transferSyntax = DicomTransferSyntax.EXPLICIT_LE;
    private ByteOrder pixelOrder = ByteOrder.LITTLE_ENDIAN;
    private Path source;
    private int frameNumber;

    /** IS (PS3.5 6.2): an optional sign and digits. */
    private static final Pattern IS = Pattern.compile("[+-]?[0-9]+");
    /** DS: a fixed or floating point decimal; no hexadecimal, no NaN/Infinity, no type suffix. */
    private static final Pattern DS = Pattern.compile("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?");

    public DicomDataset() {}

    /** The file this dataset was read from (named in error messages), or null. */
    public Path source() {
        return source;
    }

    void source(Path file) {
        source = file;
    }

    /** For one frame of a multi-frame file, its number (1-based, as ReferencedFrameNumber counts); else 0. */
    public int frameNumber() {
        return frameNumber;
    }

    void frameNumber(int n) {
        frameNumber = n;
    }

    /** A shallow copy (elements are immutable records). */
    public DicomDataset copy() {
        DicomDataset d = new DicomDataset();
        d.elements.putAll(elements);
        d.transferSyntax = transferSyntax;
        d.pixelOrder = pixelOrder;
        d.source = source;
        d.frameNumber = frameNumber;
        return d;
    }

    public void put(DicomElement e) {
        elements.put(e.tag(), e);
    }

    public void remove(int tag) {
        elements.remove(tag);
    }

    public DicomElement get(int tag) {
        return elements.get(tag);
    }

    public boolean contains(int tag) {
        return elements.containsKey(tag);
    }

    public Collection<DicomElement> elements() {
        return elements.values();
    }

    public Map<Integer, DicomElement> asMap() {
        return java.util.Collections.unmodifiableMap(elements);
    }

    /** Transfer syntax UID the dataset was read with. */
    public String transferSyntax() {
        return transferSyntax;
    }

    void transferSyntax(String uid) {
        transferSyntax = uid;
    }

    /** Byte order of the Pixel Data bytes (big endian only for explicit VR big endian files). */
    public ByteOrder pixelOrder() {
        return pixelOrder;
    }

    void pixelOrder(ByteOrder o) {
        pixelOrder = o;
    }

    /** The value as text without trailing padding, or null when absent. */
    public String string(int tag) {
        DicomElement e = elements.get(tag);
        if (e == null || e.isSequence() || e.value() == null) {
            return null;
        }
        int end = e.value().length;
        while (end > 0 && (e.value()[end - 1] == ' ' || e.value()[end - 1] == 0)) {
            end--;
        }
        int start = 0;
        while (start < end && e.value()[start] == ' ') {
            start++;
        }
        return new String(e.value(), start, end - start, StandardCharsets.ISO_8859_1);
    }

    /**
     * Numeric values: DS/IS text split at backslashes, or binary US/SS/UL/SL/FL/FD. Null when
     * absent or empty.
     *
     * @throws InvalidInputException when a DS or IS value does not parse, or a value is not finite
     */
    public double[] numbers(int tag) throws InvalidInputException {
        DicomElement e = elements.get(tag);
        if (e == null || e.isSequence() || e.value() == null || e.value().length == 0) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(e.value()).order(ByteOrder.LITTLE_ENDIAN);
        int n = e.value().length;
        double[] out;
        switch (e.vr()) {
            case "US" -> out = binary(n / 2, i -> b.getShort(2 * i) & 0xffff);
            case "SS" -> out = binary(n / 2, i -> b.getShort(2 * i));
            case "UL" -> out = binary(n / 4, i -> b.getInt(4 * i) & 0xffffffffL);
            case "SL" -> out = binary(n / 4, i -> b.getInt(4 * i));
            case "FL" -> out = binary(n / 4, i -> b.getFloat(4 * i));
            case "FD" -> out = binary(n / 8, i -> b.getDouble(8 * i));
            default -> {
                String s = string(tag);
                if (s == null || s.isEmpty()) {
                    return null;
                }
                Pattern p = e.vr().equals("IS") ? IS : DS;
                String[] parts = s.split("\\\\", -1);
                out = new double[parts.length];
                for (int i = 0; i < parts.length; i++) {
                    String v = parts[i].trim();
                    if (!p.matcher(v).matches()) {
                        throw new InvalidInputException(source, DicomDictionary.describe(tag) + " value '"
                                + printable(s) + "' is not " + (p == IS ? "an integer string (IS)" : "a decimal string (DS)"));
                    }
                    out[i] = Double.parseDouble(v);
                }
            }
        }
        for (double x : out == null ? new double[0] : out) {
            if (!Double.isFinite(x)) {
                throw new InvalidInputException(source, DicomDictionary.describe(tag) + " value " + x + " is not finite");
            }
        }
        return out;
    }

    /**
     * Exactly {@code count} numeric values, or null when absent or empty.
     *
     * @throws InvalidInputException when the values do not parse or are not {@code count}
     */
    public double[] numbers(int tag, int count) throws InvalidInputException {
        double[] v = numbers(tag);
        if (v != null && v.length != count) {
            throw new InvalidInputException(source, DicomDictionary.describe(tag) + " value '" + printable(string(tag))
                    + "' has " + v.length + " values, expected " + count);
        }
        return v;
    }

    static String printable(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        for (char ch : s.toCharArray()) {
            b.append(ch >= 32 && ch < 127 ? String.valueOf(ch) : String.format("\\x%02x", (int) ch));
            if (b.length() > 64) {
                return b.append("...").toString();
            }
        }
        return b.toString();
    }

    private interface IntToDouble {
        double at(int i);
    }

    private static double[] binary(int n, IntToDouble f) {
        if (n == 0) {
            return null;
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = f.at(i);
        }
        return out;
    }

    /** The single numeric value, or {@code dflt} when absent; several values are an error. */
    public double number(int tag, double dflt) throws InvalidInputException {
        double[] v = numbers(tag);
        if (v != null && v.length > 1) {
            throw new InvalidInputException(source, DicomDictionary.describe(tag) + " value '" + printable(string(tag))
                    + "' has " + v.length + " values, expected 1");
        }
        return v == null ? dflt : v[0];
    }

    /** The single value as an int, or {@code dflt} when absent; a fraction or an out-of-range value is an error. */
    public int integer(int tag, int dflt) throws InvalidInputException {
        double x = number(tag, Double.NaN);
        if (Double.isNaN(x)) {
            return dflt;
        }
        if (x != Math.rint(x) || x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
            throw new InvalidInputException(source, DicomDictionary.describe(tag) + " value '" + printable(string(tag))
                    + "' is not an integer");
        }
        return (int) x;
    }

    @Override
    public String toString() {
        return "DicomDataset[" + elements.size() + " elements, " + transferSyntax + "]";
    }
}
