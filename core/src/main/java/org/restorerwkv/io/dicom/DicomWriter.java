package org.restorerwkv.io.dicom;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.restorerwkv.io.AffineMath;
import org.restorerwkv.io.AtomicFiles;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Volume;

/**
 * Writes a volume as a derived DICOM series (PS3.3 C.7.6.1.1.2): one classic image per slice,
 * explicit VR little endian, signed 16-bit pixels.
 *
 * <p>Identity and provenance: new SeriesInstanceUID and SOPInstanceUIDs from the
 * {@link Derivation}'s {@link UidStrategy}; ImageType DERIVED\SECONDARY followed by the source's
 * values 3 and on; DerivationDescription and a Derivation Code Sequence naming the operation
 * (restored with model NAME, simulated ..., converted); a Source Image Sequence referencing the
 * source instance (and frame) of each slice; SeriesDescription with the operation's suffix added
 * once; SeriesNumber = the source's + the operation's offset, or the one given. Patient, study,
 * equipment and acquisition elements (sequences included, private tags excluded) are copied
 * from the source slice. Without a DICOM source a Secondary Capture series is written with every
 * Type 1 and 2 attribute of its IOD, identifiers from {@link Derivation#identifiers()}.
 *
 * <p>Geometry: when the grid is the source's (same slices, rows and columns), each slice's
 * ImagePositionPatient, ImageOrientationPatient, PixelSpacing, SliceThickness and
 * SpacingBetweenSlices are copied from its source slice as they were written, so uneven spacing
 * survives exactly; otherwise they are computed from the volume's affine (RAS converted to LPS).
 *
 * <p>Values: CT keeps the source's RescaleSlope/Intercept when every voxel fits int16 under it; MR
 * from an integer-valued source (no rescale, or identity) is rounded to integers and written
 * without a modality LUT; PET gets a per-slice slope with intercept 0 (PS3.3 C.8.9.4); otherwise
 * integral values within int16 use slope 1 / intercept 0 and other data are spread over the int16
 * range (slope = (max - min) / 65534).
 *
 * <p>Atomicity: each file goes through {@link AtomicFiles}; a series is written into a hidden
 * sibling directory (created with the umask's permissions) that is renamed to the target at the
 * end, so a failure leaves no partial series. The target directory must not exist or be empty.
 */
public final class DicomWriter {

    /** Implementation Class UID of this writer, derived from a fixed name. */
    static final String IMPLEMENTATION_UID = UidStrategy.uuidUid(UUID.nameUUIDFromBytes(
            "Restore-RWKV for Java DICOM writer".getBytes(StandardCharsets.US_ASCII)));
    static final String SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7";
    static final String CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2";
    static final String MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4";
    static final String PET_IMAGE = "1.2.840.10008.5.1.4.1.1.128";

    private static final Set<String> CLASSIC_IMAGE_CLASSES = Set.of(
            CT_IMAGE, MR_IMAGE, PET_IMAGE, "1.2.840.10008.5.1.4.1.1.20", "1.2.840.10008.5.1.4.1.1.1",
            "1.2.840.10008.5.1.4.1.1.1.1", SECONDARY_CAPTURE, "1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.12.1");
    private static final Map<String, String> ENHANCED_TO_CLASSIC = Map.of(
            "1.2.840.10008.5.1.4.1.1.2.1", CT_IMAGE, "1.2.840.10008.5.1.4.1.1.2.2", CT_IMAGE,
            "1.2.840.10008.5.1.4.1.1.4.1", MR_IMAGE, "1.2.840.10008.5.1.4.1.1.4.4", MR_IMAGE,
            "1.2.840.10008.5.1.4.1.1.130", PET_IMAGE, "1.2.840.10008.5.1.4.1.1.128.1", PET_IMAGE);
    /** Regenerated here, or meaningless for the derived pixels, so never copied. */
    private static final Set<Integer> NOT_COPIED = Set.of(0x00080008, 0x00080016, 0x00080018, 0x0008103E,
            0x00082111, 0x00082112, 0x00089215, 0x00180088, 0x00200011, 0x0020000E, 0x00200013, 0x00200032,
            0x00200037, 0x00201041, 0x00540081, 0x00880200, 0xFFFAFFFA, 0x00120062, 0x00200030, 0x00200035,
            0x00200050, 0x00209161, 0x00209162, 0x00209221, 0x00209222, 0x00209228, 0x00280301, 0x00089206,
            0x00089207, 0x00089208, 0x00089209, 0x00089205, 0x00089121, 0x00089123, 0x00089124, 0x00189004,
            0x00400260);
    private static final Set<Integer> WINDOW_TAGS = Set.of(0x00281050, 0x00281051, 0x00281055);
    private static final Set<String> LOSSY_SYNTAXES = Set.of(DicomTransferSyntax.JPEG_BASELINE,
            DicomTransferSyntax.JPEG_EXTENDED, DicomTransferSyntax.J2K, "1.2.840.10008.1.2.4.81");
    private static final SecureRandom RANDOM = new SecureRandom();

    private DicomWriter() {}

    /** One slice's stored-value encoding: value = stored * slope + intercept; null slope: no modality LUT written. */
    record Encoding(String slope, String intercept) {
        double s() {
            return slope == null ? 1 : Double.parseDouble(slope);
        }

        double b() {
            return intercept == null ? 0 : Double.parseDouble(intercept);
        }
    }

    /** UIDs and encodings of one written series. */
    record Plan(String seriesUid, String studyUid, String frameOfReferenceUid, String sopClass, Encoding[] encodings,
            String now, boolean sameGrid, Derivation derivation) {}

    public static void writeFile(Path file, Volume v, Derivation d) throws IOException {
        if (v.depth() != 1) {
            throw new InvalidInputException(file, "a volume of " + v.depth() + " slices needs a directory (DICOM"
                    + " series) as output, not a single .dcm file");
        }
        Plan plan = plan(file, v, d);
        AtomicFiles.write(file, encodeSlice(v, 0, plan));
    }

    public static void writeSeries(Path dir, Volume v, Derivation d) throws IOException {
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
        Plan plan = plan(dir, v, d);
        Path parent = target.getParent();
        Files.createDirectories(parent);
        // not Files.createTempDirectory: its 0700 mode would stay on the series folder; this one gets the umask
        Path tmp = parent.resolve("." + target.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
        Files.createDirectory(tmp);
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
        if (d.size() == v.depth()) {
            return d.get(k);
        }
        // another slice count (resampled along z): the nearest source slice
        return d.get((int) Math.min(d.size() - 1, Math.round((k + 0.5) * d.size() / v.depth() - 0.5)));
    }

    static Plan plan(Path out, Volume v, Derivation d) throws InvalidInputException {
        DicomDataset t0 = template(v, 0);
        if (t0 != null && !d.identifiers().isEmpty()) {
            throw new InvalidInputException(out, "patient and study identifiers come from the DICOM source;"
                    + " options that set them apply to inputs without DICOM metadata only");
        }
        String sopClass = t0 == null ? SECONDARY_CAPTURE : t0.string(0x00080016);
        if (sopClass == null) {
            sopClass = SECONDARY_CAPTURE;
        } else if (ENHANCED_TO_CLASSIC.containsKey(sopClass)) {
            sopClass = ENHANCED_TO_CLASSIC.get(sopClass);
        } else if (!CLASSIC_IMAGE_CLASSES.contains(sopClass)) {
            sopClass = SECONDARY_CAPTURE;
        }
        int n = v.sliceSize();
        float[] vox = v.voxels();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        boolean integral = true;
        double[] maxAbs = new double[v.depth()];
        for (int k = 0; k < v.depth(); k++) {
            for (int i = k * n; i < (k + 1) * n; i++) {
                float x = vox[i];
                if (!Float.isFinite(x)) {
                    throw new InvalidInputException(out, "volume contains " + x + ", which DICOM integer pixels cannot hold");
                }
                min = Math.min(min, x);
                max = Math.max(max, x);
                integral &= x == Math.rint(x);
                maxAbs[k] = Math.max(maxAbs[k], Math.abs(x));
            }
        }
        // the source's modality LUT per slice, null when it has none
        double[][] src = new double[v.depth()][];
        boolean integerSource = true;
        boolean sameSourceLut = true;
        for (int k = 0; k < v.depth(); k++) {
            DicomDataset t = template(v, k);
            if (t != null && t.numbers(DicomPixels.SLOPE) != null) {
                src[k] = new double[] {t.number(DicomPixels.SLOPE, 1), t.number(DicomPixels.INTERCEPT, 0)};
                integerSource &= src[k][0] == 1 && src[k][1] == Math.rint(src[k][1]);
                sameSourceLut &= Arrays.equals(src[k], src[0]);
            } else {
                sameSourceLut &= src[0] == null;
            }
        }
        integerSource &= t0 != null;
        Encoding[] enc = new Encoding[v.depth()];
        String modality = t0 == null ? "" : String.valueOf(t0.string(0x00080060));
        if (sopClass.equals(PET_IMAGE) || modality.equals("PT")) {
            // PET: RescaleIntercept must be 0 (PS3.3 C.8.9.4.1.2); one slope per slice
            for (int k = 0; k < v.depth(); k++) {
                boolean asIs = integerSource && integral && fits(maxAbs[k]);
                enc[k] = asIs ? new Encoding("1", "0")
                        : new Encoding(formatDs(maxAbs[k] > 0 ? maxAbs[k] / 32767.0 * (1 + 1e-12) : 1), "0");
            }
        } else {
            Encoding e = null;
            if (sameSourceLut && src[0] != null && fits((min - src[0][1]) / src[0][0]) && fits((max - src[0][1]) / src[0][0])
                    && !(sopClass.equals(MR_IMAGE) && integerSource)) {
                e = new Encoding(formatDs(src[0][0]), formatDs(src[0][1]));
            }
            if (e == null && sopClass.equals(MR_IMAGE) && integerSource && fits(min) && fits(max)) {
                e = new Encoding(null, null); // integers, no modality LUT (the MR IOD has none)
            }
            if (e == null) {
                if (integral && fits(min) && fits(max)) {
                    e = new Encoding("1", "0");
                } else {
                    double s = max > min ? (max - min) / 65534.0 : 1;
                    e = new Encoding(formatDs(s), formatDs((max + min) / 2));
                }
            }
            if (sopClass.equals(SECONDARY_CAPTURE) && "1".equals(e.slope()) && "0".equals(e.intercept())) {
                e = new Encoding(null, null);
            }
            if (sopClass.equals(MR_IMAGE) && t0 != null && !t0.contains(DicomPixels.SLOPE)
                    && "1".equals(e.slope()) && "0".equals(e.intercept())) {
                e = new Encoding(null, null);
            }
            Arrays.fill(enc, e);
        }
        UidStrategy uids = d.uids();
        String srcSeries = t0 == null ? null : t0.string(DicomFormat.SERIES_UID);
        String studyUid = t0 != null && t0.string(0x0020000D) != null ? t0.string(0x0020000D)
                : d.identifiers().studyInstanceUid() != null ? d.identifiers().studyInstanceUid()
                : uids.uid("study", null, -1);
        String forUid = t0 != null && t0.string(0x00200052) != null ? t0.string(0x00200052)
                : uids.uid("frame-of-reference", studyUid, -1);
        String now = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMddHHmmss", Locale.ROOT));
        boolean sameGrid = t0 != null && v.dicom().size() == v.depth()
                && t0.integer(DicomPixels.ROWS, -1) == v.height() && t0.integer(DicomPixels.COLUMNS, -1) == v.width();
        return new Plan(uids.uid("series", srcSeries, -1), studyUid, forUid, sopClass, enc, now, sameGrid, d);
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
    static byte[] encodeSlice(Volume v, int k, Plan plan) throws InvalidInputException {
        DicomDataset t = template(v, k);
        Derivation d = plan.derivation();
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
        String sopClass = plan.sopClass();
        if (t == null) {
            Derivation.Identifiers ids = d.identifiers();
            text(ds, 0x00100010, "PN", nz(ids.patientName()));
            text(ds, 0x00100020, "LO", nz(ids.patientId()));
            text(ds, 0x00200010, "SH", nz(ids.studyId()));
            text(ds, 0x00080050, "SH", nz(ids.accessionNumber()));
            text(ds, 0x00080020, "DA", plan.now().substring(0, 8));
            text(ds, 0x00080030, "TM", plan.now().substring(8));
        }
        // Type 2 attributes of the patient, study, series and equipment modules: present, empty if unknown
        for (int tag : new int[] {0x00080020, 0x00080030, 0x00080090, 0x00200010, 0x00080050, 0x00100010, 0x00100020,
            0x00100030, 0x00100040, 0x00080070}) {
            if (!ds.contains(tag)) {
                text(ds, tag, DicomDictionary.vr(tag), "");
            }
        }
        if (sopClass.equals(SECONDARY_CAPTURE)) {
            if (!ds.contains(0x00080064)) {
                text(ds, 0x00080064, "CS", "WSD");
            }
            if (!ds.contains(0x00200020)) {
                text(ds, 0x00200020, "CS", ""); // PatientOrientation, Type 2C: SC images have no image plane module
            }
            if (!ds.contains(0x00200060)) {
                text(ds, 0x00200060, "CS", ""); // Laterality, Type 2C
            }
        }
        if (!ds.contains(0x00080060)) {
            text(ds, 0x00080060, "CS", "OT");
        }
        String sourceSop = t == null ? null : t.string(0x00080018);
        String sop = d.uids().uid("instance", sourceSop != null ? sourceSop : plan.seriesUid(), k);
        text(ds, 0x00080008, "CS", imageType(t, sopClass));
        text(ds, 0x00080012, "DA", plan.now().substring(0, 8));
        text(ds, 0x00080013, "TM", plan.now().substring(8));
        text(ds, 0x00080016, "UI", sopClass);
        text(ds, 0x00080018, "UI", sop);
        if (!ds.contains(0x00080023)) {
            text(ds, 0x00080023, "DA", plan.now().substring(0, 8));
            text(ds, 0x00080033, "TM", plan.now().substring(8));
        }
        ds.put(DicomElement.of(0x0008103E, "LO", seriesDescription(t, d.seriesSuffix())));
        text(ds, 0x00082111, "ST", d.description());
        ds.put(new DicomElement(0x00089215, "SQ", new byte[0], List.of(code(d.operation().code(),
                Derivation.CODING_SCHEME, d.operation().meaning())), null));
        if (t != null && sourceSop != null && t.string(0x00080016) != null) {
            DicomDataset ref = new DicomDataset();
            text(ref, 0x00081150, "UI", t.string(0x00080016));
            text(ref, 0x00081155, "UI", sourceSop);
            if (t.frameNumber() > 0) {
                text(ref, 0x00081160, "IS", Integer.toString(t.frameNumber()));
            }
            ref.put(new DicomElement(0x0040A170, "SQ", new byte[0], List.of(code("121322", "DCM",
                    "Source image for image processing operation")), null));
            ds.put(new DicomElement(0x00082112, "SQ", new byte[0], List.of(ref), null));
        }
        text(ds, 0x0020000D, "UI", plan.studyUid());
        text(ds, 0x0020000E, "UI", plan.seriesUid());
        int number = d.seriesNumber() != null ? d.seriesNumber()
                : (t == null ? 0 : t.integer(0x00200011, 0)) + d.operation().seriesOffset();
        text(ds, 0x00200011, "IS", Integer.toString(number));
        text(ds, 0x00200013, "IS", Integer.toString(k + 1));
        text(ds, 0x00200052, "UI", plan.frameOfReferenceUid());
        geometry(ds, v, k, t, plan);
        pixels(ds, v, k, t, plan);
        return part10(ds, sopClass, sop);
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    /** DERIVED\SECONDARY (DERIVED\PRIMARY for PET: value 2 is enumerated PRIMARY, PS3.3 C.8.9.4.1.1), then the source's values 3 and on (value 3 is Type 1 for CT and MR). */
    private static String imageType(DicomDataset t, String sopClass) {
        String src = t == null ? null : t.string(0x00080008);
        List<String> rest = new ArrayList<>();
        if (src != null) {
            String[] v = src.split("\\\\", -1);
            for (int i = 2; i < v.length; i++) {
                rest.add(v[i].trim());
            }
        }
        if (rest.isEmpty() || rest.get(0).isEmpty()) {
            if (!rest.isEmpty()) {
                rest.remove(0);
            }
            rest.add(0, sopClass.equals(CT_IMAGE) ? "AXIAL" : "OTHER");
        }
        return (sopClass.equals(PET_IMAGE) ? "DERIVED\\PRIMARY\\" : "DERIVED\\SECONDARY\\") + String.join("\\", rest);
    }

    private static DicomDataset code(String value, String scheme, String meaning) {
        DicomDataset c = new DicomDataset();
        text(c, 0x00080100, "SH", value);
        text(c, 0x00080102, "SH", scheme);
        text(c, 0x00080104, "LO", meaning);
        return c;
    }

    private static void geometry(DicomDataset ds, Volume v, int k, DicomDataset t, Plan plan) throws InvalidInputException {
        double[] lps = AffineMath.flipXY(v.affine());
        double[] c0 = AffineMath.column(lps, 0);
        double[] c1 = AffineMath.column(lps, 1);
        double[] c2 = AffineMath.column(lps, 2);
        double colSpacing = AffineMath.norm(c0);
        double rowSpacing = AffineMath.norm(c1);
        double sliceStep = AffineMath.norm(c2);
        boolean copy = plan.sameGrid() && t != null;
        if (copy && t.contains(DicomFormat.IPP) && t.numbers(DicomFormat.IPP, 3) != null) {
            ds.put(t.get(DicomFormat.IPP)); // as the source wrote it: uneven spacing stays exact
        } else {
            double[] pos = {lps[3] + c2[0] * k, lps[7] + c2[1] * k, lps[11] + c2[2] * k};
            text(ds, DicomFormat.IPP, "DS", formatDs(pos[0]) + "\\" + formatDs(pos[1]) + "\\" + formatDs(pos[2]));
        }
        if (copy && t.numbers(DicomFormat.IOP, 6) != null) {
            ds.put(t.get(DicomFormat.IOP));
        } else {
            text(ds, DicomFormat.IOP, "DS", formatDs(c0[0] / colSpacing) + "\\" + formatDs(c0[1] / colSpacing) + "\\"
                    + formatDs(c0[2] / colSpacing) + "\\" + formatDs(c1[0] / rowSpacing) + "\\"
                    + formatDs(c1[1] / rowSpacing) + "\\" + formatDs(c1[2] / rowSpacing));
        }
        if (copy && t.numbers(DicomFormat.PIXEL_SPACING, 2) != null) {
            ds.put(t.get(DicomFormat.PIXEL_SPACING));
        } else {
            text(ds, DicomFormat.PIXEL_SPACING, "DS", formatDs(rowSpacing) + "\\" + formatDs(colSpacing));
        }
        if (t != null && t.numbers(DicomFormat.SLICE_THICKNESS) != null) {
            ds.put(t.get(DicomFormat.SLICE_THICKNESS));
        } else if (!ds.contains(DicomFormat.SLICE_THICKNESS)) {
            text(ds, DicomFormat.SLICE_THICKNESS, "DS", formatDs(sliceStep));
        }
        if (t != null && t.contains(DicomFormat.SPACING_BETWEEN)) {
            if (copy || v.dicom().size() == v.depth()) {
                ds.put(t.get(DicomFormat.SPACING_BETWEEN));
            } else {
                text(ds, DicomFormat.SPACING_BETWEEN, "DS", formatDs(sliceStep));
            }
        } else if (t == null) {
            text(ds, DicomFormat.SPACING_BETWEEN, "DS", formatDs(sliceStep));
        }
    }

    private static void pixels(DicomDataset ds, Volume v, int k, DicomDataset t, Plan plan) {
        us(ds, 0x00280002, 1);
        String photometric = t == null ? null : t.string(DicomPixels.PHOTOMETRIC);
        text(ds, 0x00280004, "CS", "MONOCHROME1".equals(photometric) ? "MONOCHROME1" : "MONOCHROME2");
        us(ds, 0x00280010, v.height());
        us(ds, 0x00280011, v.width());
        us(ds, 0x00280100, 16);
        us(ds, 0x00280101, 16);
        us(ds, 0x00280102, 15);
        us(ds, 0x00280103, 1);
        Encoding e = plan.encodings()[k];
        if (e.slope() != null) {
            text(ds, 0x00281052, "DS", e.intercept());
            text(ds, 0x00281053, "DS", e.slope());
            if (!plan.sopClass().equals(CT_IMAGE) && !plan.sopClass().equals(PET_IMAGE)) {
                text(ds, 0x00281054, "LO", "US"); // RescaleType, Type 1C where the IOD has a modality LUT: unspecified
            }
        }
        if (t != null && (LOSSY_SYNTAXES.contains(t.transferSyntax()) || "01".equals(t.string(0x00282110)))) {
            // once lossy, always lossy (PS3.3 C.7.6.1.1.5)
            text(ds, 0x00282110, "CS", "01");
            if (t.contains(0x00282112) && t.contains(0x00282114)) {
                ds.put(t.get(0x00282112));
                ds.put(t.get(0x00282114));
            } else if (LOSSY_SYNTAXES.contains(t.transferSyntax())) {
                text(ds, 0x00282114, "CS", t.transferSyntax().startsWith("1.2.840.10008.1.2.4.9") ? "ISO_15444_1"
                        : t.transferSyntax().startsWith("1.2.840.10008.1.2.4.8") ? "ISO_14495_1" : "ISO_10918_1");
            }
        }
        double s = e.s();
        double b = e.b();
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
    }

    private static byte[] part10(DicomDataset ds, String sopClass, String sop) {
        ByteArrayOutputStream meta = new ByteArrayOutputStream();
        writeElement(meta, DicomElement.of(0x00020001, "OB", new byte[] {0, 1}));
        writeElement(meta, DicomElement.of(0x00020002, "UI", ascii(sopClass)));
        writeElement(meta, DicomElement.of(0x00020003, "UI", ascii(sop)));
        writeElement(meta, DicomElement.of(0x00020010, "UI", ascii(DicomTransferSyntax.EXPLICIT_LE)));
        writeElement(meta, DicomElement.of(0x00020012, "UI", ascii(IMPLEMENTATION_UID)));
        writeElement(meta, DicomElement.of(0x00020013, "SH", ascii("RESTORE_RWKV")));
        ByteArrayOutputStream out = new ByteArrayOutputStream(ds.get(DicomParser.PIXEL_DATA).value().length + 4096);
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

    /** The source's description without trailing padding, with the suffix added unless it already ends with it. */
    private static byte[] seriesDescription(DicomDataset t, String suffixText) {
        byte[] orig = new byte[0];
        if (t != null && t.get(0x0008103E) != null) {
            orig = t.get(0x0008103E).value();
            int end = orig.length;
            while (end > 0 && (orig[end - 1] == ' ' || orig[end - 1] == 0)) {
                end--;
            }
            orig = Arrays.copyOf(orig, end);
        }
        if (new String(orig, StandardCharsets.ISO_8859_1).endsWith(suffixText.trim())) {
            return orig; // already says it: never repeated
        }
        byte[] suffix = ascii(orig.length == 0 ? suffixText.trim() : suffixText);
        int keep = Math.min(orig.length, 64 - suffix.length);
        while (keep > 0 && keep < orig.length && (orig[keep] & 0xC0) == 0x80) {
            keep--; // do not cut a UTF-8 sequence in two
        }
        byte[] r = Arrays.copyOf(orig, keep + suffix.length);
        System.arraycopy(suffix, 0, r, keep, suffix.length);
        return r;
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
