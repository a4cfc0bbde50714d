package org.restorerwkv.io.dicom;

import java.util.List;

/**
 * One DICOM data element. Numeric values (US, SS, UL, SL, FL, FD, AT, OW, OF, OD, OL, OV, SV, UV)
 * are held little-endian whatever the source byte order, except Pixel Data, which stays as in the
 * file (see {@link DicomDataset#pixelOrder()}).
 *
 * @param tag (group &lt;&lt; 16) | element
 * @param vr two-letter value representation ("UN" when an implicit-VR file used a tag unknown here)
 * @param value the value bytes (empty for sequences and encapsulated pixel data)
 * @param items sequence items (SQ only), else empty
 * @param fragments encapsulated pixel data fragments, the basic offset table first; null when native
 */
public record DicomElement(int tag, String vr, byte[] value, List<DicomDataset> items, List<byte[]> fragments) {

    public DicomElement {
        items = items == null ? List.of() : List.copyOf(items);
    }

    public static DicomElement of(int tag, String vr, byte[] value) {
        return new DicomElement(tag, vr, value, List.of(), null);
    }

    public int group() {
        return tag >>> 16;
    }

    public boolean isSequence() {
        return vr.equals("SQ");
    }

    public boolean isEncapsulated() {
        return fragments != null;
    }

    public static String tagString(int tag) {
        return String.format("(%04X,%04X)", tag >>> 16, tag & 0xffff);
    }
}
