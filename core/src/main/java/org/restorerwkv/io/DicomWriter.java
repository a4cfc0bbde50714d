package org.restorerwkv.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Writes a volume as a derived DICOM series: one file per slice, explicit VR little endian,
 * signed 16-bit pixels.
 *
 * <p>Identity: a new SeriesInstanceUID and SOPInstanceUIDs ("2.25." + a random UUID as an
 * integer, PS3.5 B.2), ImageType DERIVED\SECONDARY, SeriesDescription "&lt;original&gt; restored by
 * Restore-RWKV", SeriesNumber + 1000. Patient, study, equipment and acquisition elements
 * (sequences included, private tags excluded) are copied from the source slice's dataset (slice k
 * of the source when the depth is unchanged, else the first); the image pixel module and the
 * geometry (ImagePositionPatient, ImageOrientationPatient, PixelSpacing, from the volume's affine
 * converted RAS to LPS) are regenerated. Without a DICOM source a Secondary Capture series with
 * empty patient/study attributes and new study and frame-of-reference UIDs is written.
 *
 * <p>Values: RescaleSlope/RescaleIntercept of the source are kept when every voxel fits int16
 * under them; otherwise integral values within int16 use slope 1 / intercept 0, and other data
 * are spread over the int16 range (slope = (max - min) / 65534).
 *
 * <p>Atomicity: each file goes through {@link AtomicFiles}; a series is written into a temporary
 * sibling directory that is renamed to the target at the end, so a failure leaves no partial
 * series. The target directory must not exist or be empty.
 */
public final class DicomWriter {

    /** Implementation Class UID of this writer, derived from a fixed name. */
    static final String IMPLEMENTATION_UID = uuidUid(UUID.nameUUIDFromBytes(
            "Restore-RWKV for Java DICOM writer".getBytes(StandardCharsets.US_ASCII)));
    static final String SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7";

    private static final Set<String> CLASSIC_IMAGE_CLASSES = Set.of(
            "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.128",
            "1.2.840.10008.5.1.4.1.1.20", "1.2.840.10008.5.1.4.1.1.1", "1.2.840.10008.5.1.4.1.1.1.1",
            "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.12.1");
    private static final Map<String, String> ENHANCED_TO_CLASSIC = Map.of(
            "1.2.840.10008.5.1.4.1.1.2.1", "1.2.840.10008.5.1.4.1.1.2",
            "1.2.840.10008.5.1.4.1.1.4.1", "1.2.840.10008.5.1.4.1.1.4",
            "1.2.840.10008.5.1.4.1.1.130", "1.2.840.10008.5.1.4.1.1.128");
    /** Regenerated here, or meaningless for the derived pixels, so never copied. */
    private static final Set<Integer> NOT_COPIED = Set.of(0x00080008, 0x00080016, 0x00080018, 0x0008103E,
            0x00082111, 0x00082112, 0x00180088, 0x00200011, 0x0020000E, 0x00200013, 0x00200032, 0x00200037,
            0x00201041, 0x00540081, 0x00880200, 0xFFFAFFFA, 0x00120062, 0x00200030, 0x00200035, 0x00200050);
    private static final Set<Integer> WINDOW_TAGS = Set.of(0x00281050, 0x00281051, 0x00281055, 0x00281054);

    private static final String SUFFIX = " restored by Restore-RWKV";

    private DicomWriter() {}

    static String uuidUid(UUID u) {
        BigInteger hi = BigInteger.valueOf(u.getMostSignificantBits()).and(BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE));
        BigInteger lo = BigInteger.valueOf(u.getLeastSignificantBits()).and(BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE));
        return "2.25." + hi.shiftLeft(64).or(lo);
    }

    static String newUid() {
        return uuidUid(UUID.randomUUID());
    }

    /** UIDs and scaling shared by all files of one written series. */
    record Plan(String seriesUid, String studyUid, String frameOfReferenceUid, String slope, String intercept,
            String now) {}

    public static void writeFile(Path file, Volume v) throws IOException {
        if (v.depth() != 1) {
            throw new InvalidInputException(file, "a volume of " + v.depth() + " slices needs a directory (DICOM"
                    + " series) as output, not a single .dcm file");
        }
        Plan plan = plan(file, v);
        AtomicFiles.write(file, encodeSlice(v, 0, plan));
    }

    public static void writeSeries(Path dir, Volume v) throws IOException {
        Path target = dir.toAbsolutePath();
        if (Files.exists(target)) {
            if (!Files.isDirectory(target)) {
                throw new InvalidInputException(dir, "output exists and is not a directory");
            }
            try (Stream<Path> s = Files.list(target)) {
                if (s.findAny().isPresent()) {
                    throw new InvalidInputException(dir, "output directory exists and is not empty");
                }
            }
        }
        Plan plan = plan(dir, v);
        Path parent = target.getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".");
        try {
            int digits = Math.max(4, String.valueOf(v.depth()).length());
            for (int k = 0; k < v.depth(); k++) {
                String name = String.format(Locale.ROOT, "IM%0" + digits + "d.dcm", k + 1);
                AtomicFiles.write(tmp.resolve(name), encodeSlice(v, k, plan));
            }
            if (Files.isDirectory(target)) {
                Files.delete(target); // empty, checked above
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            if (Files.exists(tmp)) {
                try (Stream<Path> s = Files.walk(tmp)) {
                    for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    private static DicomDataset template(Volume v, int k) {
        List<DicomDataset> d = v.dicom();
        if (d.isEmpty()) {
            return null;
        }
        return d.size() == v.depth() ? d.get(k) : d.get(0);
    }

    static Plan plan(Path out, Volume v) throws InvalidInputException {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        boolean integral = true;
        for (float x : v.voxels()) {
            if (!Float.isFinite(x)) {
                throw new InvalidInputException(out, "volume contains " + x + ", which DICOM integer pixels cannot hold");
            }
            min = Math.min(min, x);
            max = Math.max(max, x);
            integral &= x == Math.rint(x);
        }
        DicomDataset t = template(v, 0);
        String slope = null;
        String inter = null;
        if (t != null && t.numbers(DicomPixels.SLOPE) != null) {
            double s = t.number(DicomPixels.SLOPE, 1);
            double b = t.number(DicomPixels.INTERCEPT, 0);
            if (s != 0 && fits((min - b) / s) && fits((max - b) / s)) {
                slope = formatDs(s);
                inter = formatDs(b);
            }
        }
        if (slope == null) {
            if (integral && fits(min) && fits(max)) {
                slope = "1";
                inter = "0";
            } else {
                double s = max > min ? (max - min) / 65534.0 : 1;
                slope = formatDs(s);
                inter = formatDs((max + min) / 2);
            }
        }
        String studyUid = t != null && t.string(0x0020000D) != null ? t.string(0x0020000D) : newUid();
        String forUid = t != null && t.string(0x00200052) != null ? t.string(0x00200052) : newUid();
        String now = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMddHHmmss", Locale.ROOT));
        return new Plan(newUid(), studyUid, forUid, slope, inter, now);
    }

    private static boolean fits(double stored) {
        return Math.rint(stored) >= Short.MIN_VALUE && Math.rint(stored) <= Short.MAX_VALUE;
    }

    /** A DS string of at most 16 characters holding x as precisely as that allows. */
    static String formatDs(double x) {
        if (x == Math.rint(x) && Math.abs(x) < 1e15) {
            return Long.toString((long) x);
        }
        for (int p = 15; p >= 1; p--) {
            String s = String.format(Locale.ROOT, "%." + p + "G", x);
            s = s.contains("E") ? stripZeros(s.substring(0, s.indexOf('E'))) + s.substring(s.indexOf('E'))
                    : stripZeros(s);
            if (s.length() <= 16) {
                return s;
            }
        }
        throw new IllegalArgumentException("cannot format " + x + " as DS");
    }

    private static String stripZeros(String s) {
        if (!s.contains(".")) {
            return s;
        }
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    /** The complete Part 10 file of slice k. */
    static byte[] encodeSlice(Volume v, int k, Plan plan) {
        DicomDataset t = template(v, k);
        DicomDataset ds = new DicomDataset();
        if (t != null) {
            for (DicomElement e : t.elements()) {
                int g = e.group();
                boolean bigEndianUnknown = e.vr().equals("UN")
                        && t.transferSyntax().equals(DicomTransferSyntax.EXPLICIT_BE);
                if (g == 0x0002 || (g & 1) == 1 || g == 0x7FE0 || g == 0x5200 || g == 0xFFFC || NOT_COPIED.contains(e.tag())
                        || (g == 0x0028 && !WINDOW_TAGS.contains(e.tag())) || bigEndianUnknown) {
                    continue;
                }
                ds.put(e);
            }
        }
        String sopClass = t == null ? SECONDARY_CAPTURE : t.string(0x00080016);
        if (sopClass == null) {
            sopClass = SECONDARY_CAPTURE;
        } else if (ENHANCED_TO_CLASSIC.containsKey(sopClass)) {
            sopClass = ENHANCED_TO_CLASSIC.get(sopClass);
        } else if (!CLASSIC_IMAGE_CLASSES.contains(sopClass)) {
            sopClass = SECONDARY_CAPTURE;
        }
        if (t == null) {
            for (int tag : new int[] {0x00100010, 0x00100020, 0x00100030, 0x00100040, 0x00080020, 0x00080030,
                0x00080050, 0x00080090, 0x00200010, 0x00200020}) {
                text(ds, tag, DicomDictionary.vr(tag), "");
            }
            text(ds, 0x00080060, "CS", "OT");
        }
        if (sopClass.equals(SECONDARY_CAPTURE) && !ds.contains(0x00080064)) {
            text(ds, 0x00080064, "CS", "WSD");
        }
        if (!ds.contains(0x00080060)) {
            text(ds, 0x00080060, "CS", "OT");
        }
        String sop = newUid();
        text(ds, 0x00080008, "CS", "DERIVED\\SECONDARY");
        text(ds, 0x00080012, "DA", plan.now().substring(0, 8));
        text(ds, 0x00080013, "TM", plan.now().substring(8));
        text(ds, 0x00080016, "UI", sopClass);
        text(ds, 0x00080018, "UI", sop);
        ds.put(DicomElement.of(0x0008103E, "LO", seriesDescription(t)));
        text(ds, 0x00082111, "ST", "Restored by Restore-RWKV");
        text(ds, 0x0020000D, "UI", plan.studyUid());
        text(ds, 0x0020000E, "UI", plan.seriesUid());
        text(ds, 0x00200011, "IS", Integer.toString(t == null ? 1 : t.integer(0x00200011, 0) + 1000));
        text(ds, 0x00200013, "IS", Integer.toString(k + 1));
        text(ds, 0x00200052, "UI", plan.frameOfReferenceUid());
        // geometry, LPS
        double[] lps = AffineMath.flipXY(v.affine());
        double[] c0 = AffineMath.column(lps, 0);
        double[] c1 = AffineMath.column(lps, 1);
        double[] c2 = AffineMath.column(lps, 2);
        double colSpacing = AffineMath.norm(c0);
        double rowSpacing = AffineMath.norm(c1);
        double sliceStep = AffineMath.norm(c2);
        double[] pos = {lps[3] + c2[0] * k, lps[7] + c2[1] * k, lps[11] + c2[2] * k};
        text(ds, 0x00200032, "DS", ds3(pos));
        text(ds, 0x00200037, "DS", formatDs(c0[0] / colSpacing) + "\\" + formatDs(c0[1] / colSpacing) + "\\"
                + formatDs(c0[2] / colSpacing) + "\\" + formatDs(c1[0] / rowSpacing) + "\\"
                + formatDs(c1[1] / rowSpacing) + "\\" + formatDs(c1[2] / rowSpacing));
        text(ds, 0x00280030, "DS", formatDs(rowSpacing) + "\\" + formatDs(colSpacing));
        if (!ds.contains(0x00180050)) {
            text(ds, 0x00180050, "DS", formatDs(sliceStep));
        }
        if (t == null || t.contains(0x00180088)) {
            text(ds, 0x00180088, "DS", formatDs(sliceStep));
        }
        // image pixel module
        us(ds, 0x00280002, 1);
        String photometric = t == null ? null : t.string(DicomPixels.PHOTOMETRIC);
        text(ds, 0x00280004, "CS", "MONOCHROME1".equals(photometric) ? "MONOCHROME1" : "MONOCHROME2");
        us(ds, 0x00280010, v.height());
        us(ds, 0x00280011, v.width());
        us(ds, 0x00280100, 16);
        us(ds, 0x00280101, 16);
        us(ds, 0x00280102, 15);
        us(ds, 0x00280103, 1);
        text(ds, 0x00281052, "DS", plan.intercept());
        text(ds, 0x00281053, "DS", plan.slope());
        double s = Double.parseDouble(plan.slope());
        double b = Double.parseDouble(plan.intercept());
        int n = v.sliceSize();
        byte[] px = new byte[2 * n];
        int base = k * n;
        float[] vox = v.voxels();
        for (int i = 0; i < n; i++) {
            long q = Math.round((vox[base + i] - b) / s);
            int sv = (int) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, q));
            px[2 * i] = (byte) sv;
            px[2 * i + 1] = (byte) (sv >> 8);
        }
        ds.put(DicomElement.of(DicomParser.PIXEL_DATA, "OW", px));

        // file meta information
        ByteArrayOutputStream meta = new ByteArrayOutputStream();
        writeElement(meta, DicomElement.of(0x00020001, "OB", new byte[] {0, 1}));
        writeElement(meta, DicomElement.of(0x00020002, "UI", ascii(sopClass)));
        writeElement(meta, DicomElement.of(0x00020003, "UI", ascii(sop)));
        writeElement(meta, DicomElement.of(0x00020010, "UI", ascii(DicomTransferSyntax.EXPLICIT_LE)));
        writeElement(meta, DicomElement.of(0x00020012, "UI", ascii(IMPLEMENTATION_UID)));
        writeElement(meta, DicomElement.of(0x00020013, "SH", ascii("RESTORE_RWKV")));
        ByteArrayOutputStream out = new ByteArrayOutputStream(2 * n + 4096);
        out.writeBytes(new byte[128]);
        out.writeBytes(ascii("DICM"));
        int ml = meta.size();
        writeElement(out, DicomElement.of(0x00020000, "UL", new byte[] {(byte) ml, (byte) (ml >> 8),
            (byte) (ml >> 16), (byte) (ml >> 24)}));
        out.writeBytes(meta.toByteArray());
        for (DicomElement e : ds.elements()) {
            writeElement(out, e);
        }
        return out.toByteArray();
    }

    private static byte[] seriesDescription(DicomDataset t) {
        byte[] orig = new byte[0];
        if (t != null && t.get(0x0008103E) != null) {
            orig = t.get(0x0008103E).value();
            int end = orig.length;
            while (end > 0 && (orig[end - 1] == ' ' || orig[end - 1] == 0)) {
                end--;
            }
            orig = java.util.Arrays.copyOf(orig, end);
        }
        byte[] suffix = ascii(orig.length == 0 ? SUFFIX.trim() : SUFFIX);
        int keep = Math.min(orig.length, 64 - suffix.length);
        while (keep > 0 && keep < orig.length && (orig[keep] & 0xC0) == 0x80) {
            keep--; // do not cut a UTF-8 sequence in two
        }
        byte[] r = java.util.Arrays.copyOf(orig, keep + suffix.length);
        System.arraycopy(suffix, 0, r, keep, suffix.length);
        return r;
    }

    private static String ds3(double[] p) {
        return formatDs(p[0]) + "\\" + formatDs(p[1]) + "\\" + formatDs(p[2]);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void text(DicomDataset ds, int tag, String vr, String value) {
        ds.put(DicomElement.of(tag, vr, ascii(value)));
    }

    private static void us(DicomDataset ds, int tag, int value) {
        ds.put(DicomElement.of(tag, "US", new byte[] {(byte) value, (byte) (value >> 8)}));
    }

    private static final Set<String> LONG_VRS = Set.of("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR",
            "UT", "SV", "UV");

    /** One element in explicit VR little endian; sequences and items with undefined length. */
    static void writeElement(ByteArrayOutputStream out, DicomElement e) {
        String vr = e.vr();
        if (vr.equals("SQ")) {
            tag(out, e.tag());
            out.writeBytes(ascii("SQ"));
            out.write(0);
            out.write(0);
            u32(out, 0xFFFFFFFFL);
            for (DicomDataset item : e.items()) {
                tag(out, 0xFFFEE000);
                u32(out, 0xFFFFFFFFL);
                for (DicomElement c : item.elements()) {
                    writeElement(out, c);
                }
                tag(out, 0xFFFEE00D);
                u32(out, 0);
            }
            tag(out, 0xFFFEE0DD);
            u32(out, 0);
            return;
        }
        byte[] v = e.value();
        int len = v.length + (v.length & 1);
        if (!LONG_VRS.contains(vr) && len > 0xFFFF) {
            vr = "UN";
        }
        tag(out, e.tag());
        out.writeBytes(ascii(vr));
        if (LONG_VRS.contains(vr)) {
            out.write(0);
            out.write(0);
            u32(out, len);
        } else {
            out.write(len & 0xff);
            out.write(len >> 8 & 0xff);
        }
        out.writeBytes(v);
        if ((v.length & 1) == 1) {
            boolean zeroPad = vr.equals("UI") || vr.equals("OB") || vr.equals("UN");
            out.write(zeroPad ? 0 : ' ');
        }
    }

    private static void tag(ByteArrayOutputStream out, int tag) {
        int g = tag >>> 16;
        int el = tag & 0xffff;
        out.write(g & 0xff);
        out.write(g >> 8);
        out.write(el & 0xff);
        out.write(el >> 8);
    }

    private static void u32(ByteArrayOutputStream out, long v) {
        out.write((int) (v & 0xff));
        out.write((int) (v >> 8 & 0xff));
        out.write((int) (v >> 16 & 0xff));
        out.write((int) (v >> 24 & 0xff));
    }
}
