package org.restorerwkv.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

/**
 * The elements of one DICOM dataset (one file or one sequence item), ordered by tag, with typed
 * accessors. String values are decoded as ISO-8859-1 for interpretation only; the raw bytes are
 * kept so that copying an element preserves its character set.
 */
public final class DicomDataset {

    private final TreeMap<Integer, DicomElement> elements = new TreeMap<>(Integer::compareUnsigned);
    private String transferSyntax = DicomTransferSyntax.EXPLICIT_LE;
    private ByteOrder pixelOrder = ByteOrder.LITTLE_ENDIAN;

    public DicomDataset() {}

    /** A shallow copy (elements are immutable records). */
    public DicomDataset copy() {
        DicomDataset d = new DicomDataset();
        d.elements.putAll(elements);
        d.transferSyntax = transferSyntax;
        d.pixelOrder = pixelOrder;
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
     * absent or empty; unparsable text gives null as well (callers treat it as missing).
     */
    public double[] numbers(int tag) {
        DicomElement e = elements.get(tag);
        if (e == null || e.isSequence() || e.value() == null || e.value().length == 0) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(e.value()).order(ByteOrder.LITTLE_ENDIAN);
        int n = e.value().length;
        switch (e.vr()) {
            case "US": return binary(n / 2, i -> b.getShort(2 * i) & 0xffff);
            case "SS": return binary(n / 2, i -> b.getShort(2 * i));
            case "UL": return binary(n / 4, i -> b.getInt(4 * i) & 0xffffffffL);
            case "SL": return binary(n / 4, i -> b.getInt(4 * i));
            case "FL": return binary(n / 4, i -> b.getFloat(4 * i));
            case "FD": return binary(n / 8, i -> b.getDouble(8 * i));
            default:
                String s = string(tag);
                if (s == null || s.isEmpty()) {
                    return null;
                }
                String[] parts = s.split("\\\\");
                double[] out = new double[parts.length];
                try {
                    for (int i = 0; i < parts.length; i++) {
                        out[i] = Double.parseDouble(parts[i].trim());
                    }
                } catch (NumberFormatException ex) {
                    return null;
                }
                return out;
        }
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

    /** First numeric value, or {@code dflt} when absent. */
    public double number(int tag, double dflt) {
        double[] v = numbers(tag);
        return v == null ? dflt : v[0];
    }

    /** First numeric value as an int, or {@code dflt} when absent. */
    public int integer(int tag, int dflt) {
        double[] v = numbers(tag);
        return v == null ? dflt : (int) Math.round(v[0]);
    }

    @Override
    public String toString() {
        return "DicomDataset[" + elements.size() + " elements, " + transferSyntax + "]";
    }
}
