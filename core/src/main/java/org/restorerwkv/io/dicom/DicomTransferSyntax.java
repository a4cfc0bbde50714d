package org.restorerwkv.io.dicom;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Transfer syntax UIDs: the ones read here (docs/formats.md lists them) and the names of the
 * others, so that a refusal names what the file uses.
 */
final class DicomTransferSyntax {

    static final String IMPLICIT_LE = "1.2.840.10008.1.2";
    static final String EXPLICIT_LE = "1.2.840.10008.1.2.1";
    static final String DEFLATED_LE = "1.2.840.10008.1.2.1.99";
    static final String EXPLICIT_BE = "1.2.840.10008.1.2.2";
    static final String RLE = "1.2.840.10008.1.2.5";
    static final String JPEG_BASELINE = "1.2.840.10008.1.2.4.50";
    static final String JPEG_EXTENDED = "1.2.840.10008.1.2.4.51";
    static final String JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57";
    static final String JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70";
    static final String J2K_LOSSLESS = "1.2.840.10008.1.2.4.90";
    static final String J2K = "1.2.840.10008.1.2.4.91";

    private static final Set<String> NATIVE = Set.of(IMPLICIT_LE, EXPLICIT_LE, DEFLATED_LE, EXPLICIT_BE);
    private static final Set<String> DECODED = Set.of(RLE, JPEG_BASELINE, JPEG_EXTENDED, JPEG_LOSSLESS,
            JPEG_LOSSLESS_SV1, J2K_LOSSLESS, J2K);

    private static final Map<String, String> NAMES = new LinkedHashMap<>();

    static {
        NAMES.put(IMPLICIT_LE, "Implicit VR Little Endian");
        NAMES.put(EXPLICIT_LE, "Explicit VR Little Endian");
        NAMES.put(DEFLATED_LE, "Deflated Explicit VR Little Endian");
        NAMES.put(EXPLICIT_BE, "Explicit VR Big Endian");
        NAMES.put(RLE, "RLE Lossless");
        NAMES.put(JPEG_BASELINE, "JPEG Baseline (Process 1)");
        NAMES.put(JPEG_EXTENDED, "JPEG Extended (Process 2 & 4)");
        NAMES.put(JPEG_LOSSLESS, "JPEG Lossless, Non-Hierarchical (Process 14)");
        NAMES.put(JPEG_LOSSLESS_SV1, "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 SV1)");
        NAMES.put("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless");
        NAMES.put("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless)");
        NAMES.put(J2K_LOSSLESS, "JPEG 2000 Image Compression (Lossless Only)");
        NAMES.put(J2K, "JPEG 2000 Image Compression");
        NAMES.put("1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component (Lossless Only)");
        NAMES.put("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component");
        NAMES.put("1.2.840.10008.1.2.4.94", "JPIP Referenced");
        NAMES.put("1.2.840.10008.1.2.4.95", "JPIP Referenced Deflate");
        NAMES.put("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level");
        NAMES.put("1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level");
        NAMES.put("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1");
        NAMES.put("1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1");
        NAMES.put("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 (Lossless Only)");
        NAMES.put("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)");
        NAMES.put("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000");
        NAMES.put("1.2.840.10008.1.2.6.1", "RFC 2557 MIME encapsulation");
    }

    private DicomTransferSyntax() {}

    /** Whether pixel data in this syntax is decoded here (12-bit JPEG Extended is refused later, by its SOF). */
    static boolean readable(String uid) {
        return NATIVE.contains(uid) || DECODED.contains(uid);
    }

    static boolean isEncapsulated(String uid) {
        return !NATIVE.contains(uid);
    }

    /** "UID (name)" for messages. */
    static String describe(String uid) {
        String name = NAMES.get(uid);
        return uid + " (" + (name != null ? name : "unknown transfer syntax") + ")";
    }

    /** Why a syntax is not read, for the refusal message. */
    static String whyNot(String uid) {
        return NAMES.containsKey(uid) && !readable(uid)
                ? ": no maintained Java decoder on Maven Central; decompress it first (e.g. gdcmconv --raw IN OUT)" : "";
    }
}
