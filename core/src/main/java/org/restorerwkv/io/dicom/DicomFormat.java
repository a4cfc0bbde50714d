package org.restorerwkv.io.dicom;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.restorerwkv.io.AffineMath;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Volume;

/**
 * DICOM reading: a single file (one or more frames) or a series directory. Geometry comes from
 * ImagePositionPatient / ImageOrientationPatient / PixelSpacing — for Enhanced and Legacy
 * Converted Enhanced multi-frame images from the Shared and Per-frame Functional Groups, with each
 * frame's own rescale — and is converted from DICOM LPS+ to the RAS+ affine of {@link Volume}.
 * Slices (files or frames) are sorted by their position projected on the slice normal (row
 * cosines x column cosines), else by InstanceNumber, else kept in file / frame order. Several
 * orientations, stacks or volumes (same position twice) are refused, naming which.
 *
 * <p>{@link Volume#dicom()} holds one dataset per slice: the file's, or for a multi-frame file a
 * copy per frame with that frame's geometry and rescale in place of the functional groups (see
 * {@link DicomDataset#frameNumber()}). Writing is in {@link DicomWriter}.
 */
public final class DicomFormat {

    static final int IPP = 0x00200032;
    static final int IOP = 0x00200037;
    static final int PIXEL_SPACING = 0x00280030;
    static final int SLICE_THICKNESS = 0x00180050;
    static final int SPACING_BETWEEN = 0x00180088;
    static final int INSTANCE_NUMBER = 0x00200013;
    static final int SERIES_UID = 0x0020000E;
    static final int SHARED_GROUPS = 0x52009229;
    static final int PER_FRAME_GROUPS = 0x52009230;
    private static final int PLANE_POSITION = 0x00209113;
    private static final int PLANE_ORIENTATION = 0x00209116;
    private static final int PIXEL_MEASURES = 0x00289110;
    private static final int VALUE_TRANSFORMATION = 0x00289145;
    private static final int FRAME_CONTENT = 0x00209111;
    private static final int STACK_ID = 0x00209056;

    private DicomFormat() {}

    /** True when the bytes start like DICOM: preamble + "DICM", or a plausible first element. */
    public static boolean looksLikeDicom(byte[] head) {
        return DicomParser.looksLikeDicom(head);
    }

    /** A file, or a directory holding one series. */
    public static Volume read(Path path) throws IOException {
        return Files.isDirectory(path) ? readSeries(path) : readFile(path);
    }

    /** One decoded slice: a single-frame file, or one frame of a multi-frame file. */
    private record Frame(Path file, DicomDataset ds, float[] values, double[] ipp, double[] iop, double[] spacing,
            String stack) {}

    private static List<Frame> load(Path file, boolean quiet) throws IOException {
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(file, "DICOM file of " + size + " bytes is too large");
        }
        byte[] data = Files.readAllBytes(file);
        if (quiet && !DicomParser.looksLikeDicom(data)) {
            return List.of();
        }
        DicomDataset ds = DicomParser.parse(data, file);
        if (quiet && ds.get(DicomParser.PIXEL_DATA) == null) {
            return List.of(); // DICOMDIR, structured reports and other non-image objects in a series folder
        }
        return ds.contains(PER_FRAME_GROUPS) || ds.contains(SHARED_GROUPS) ? enhanced(ds, file) : classic(ds, file);
    }

    private static List<Frame> classic(DicomDataset ds, Path file) throws InvalidInputException {
        double[] ipp = ds.numbers(IPP, 3);
        double[] iop = orientation(ds, file);
        double[] ps = spacing(ds, file);
        List<float[]> values = DicomPixels.decode(ds, file);
        ds.remove(DicomParser.PIXEL_DATA);
        if (values.size() == 1) {
            return List.of(new Frame(file, ds, values.get(0), ipp, iop, ps, null));
        }
        // a classic multi-frame file states one position: frames follow at the nominal spacing
        List<Frame> out = new ArrayList<>();
        for (int f = 0; f < values.size(); f++) {
            DicomDataset copy = ds.copy();
            copy.frameNumber(f + 1);
            if (f > 0) {
                copy.remove(IPP);
            }
            out.add(new Frame(file, copy, values.get(f), null, iop, ps, null));
        }
        return out;
    }

    /** Enhanced / Legacy Converted Enhanced multi-frame: per frame, the per-frame group else the shared one. */
    private static List<Frame> enhanced(DicomDataset ds, Path file) throws InvalidInputException {
        DicomPixels.Layout l = DicomPixels.layout(ds, file);
        DicomElement perFrame = ds.get(PER_FRAME_GROUPS);
        DicomElement sharedSeq = ds.get(SHARED_GROUPS);
        DicomDataset shared = sharedSeq != null && !sharedSeq.items().isEmpty() ? sharedSeq.items().get(0) : new DicomDataset();
        if (perFrame == null || perFrame.items().size() != l.frames()) {
            throw new InvalidInputException(file, "Per-frame Functional Groups Sequence (5200,9230) has "
                    + (perFrame == null ? 0 : perFrame.items().size()) + " items for " + l.frames() + " frames");
        }
        DicomPixels.Rescale[] rescale = new DicomPixels.Rescale[l.frames()];
        DicomDataset[] perFrameDs = new DicomDataset[l.frames()];
        double[][] ipp = new double[l.frames()][];
        double[][] iop = new double[l.frames()][];
        double[][] ps = new double[l.frames()][];
        String[] stack = new String[l.frames()];
        DicomDataset top = ds.copy();
        top.remove(PER_FRAME_GROUPS);
        top.remove(SHARED_GROUPS);
        top.remove(DicomParser.PIXEL_DATA);
        for (int f = 0; f < l.frames(); f++) {
            DicomDataset own = perFrame.items().get(f);
            DicomDataset g = top.copy();
            g.frameNumber(f + 1);
            for (int seq : new int[] {PLANE_POSITION, PLANE_ORIENTATION, PIXEL_MEASURES, VALUE_TRANSFORMATION}) {
                DicomDataset item = group(own, seq);
                if (item == null) {
                    item = group(shared, seq);
                }
                if (item != null) {
                    for (DicomElement e : item.elements()) {
                        g.put(e);
                    }
                }
            }
            DicomDataset content = group(own, FRAME_CONTENT);
            stack[f] = content == null ? null : content.string(STACK_ID);
            ipp[f] = g.numbers(IPP, 3);
            iop[f] = orientation(g, file);
            ps[f] = spacing(g, file);
            rescale[f] = DicomPixels.rescale(g, file);
            perFrameDs[f] = g;
        }
        List<float[]> values = DicomPixels.decode(ds, file, rescale);
        List<Frame> out = new ArrayList<>();
        for (int f = 0; f < l.frames(); f++) {
            out.add(new Frame(file, perFrameDs[f], values.get(f), ipp[f], iop[f], ps[f], stack[f]));
        }
        return out;
    }

    private static DicomDataset group(DicomDataset fg, int seq) {
        DicomElement e = fg.get(seq);
        return e == null || e.items().isEmpty() ? null : e.items().get(0);
    }

    private static double[] orientation(DicomDataset ds, Path file) throws InvalidInputException {
        double[] iop = ds.numbers(IOP, 6);
        if (iop == null) {
            return null;
        }
        double[] r = {iop[0], iop[1], iop[2]};
        double[] c = {iop[3], iop[4], iop[5]};
        if (Math.abs(AffineMath.norm(r) - 1) > 1e-2 || Math.abs(AffineMath.norm(c) - 1) > 1e-2
                || Math.abs(AffineMath.dot(r, c)) > 1e-2) {
            throw new InvalidInputException(file, DicomDictionary.describe(IOP) + " value '" + ds.string(IOP)
                    + "' is not two orthogonal unit vectors");
        }
        return iop;
    }

    private static double[] spacing(DicomDataset ds, Path file) throws InvalidInputException {
        double[] ps = ds.numbers(PIXEL_SPACING, 2);
        if (ps != null && (ps[0] <= 0 || ps[1] <= 0)) {
            throw new InvalidInputException(file, DicomDictionary.describe(PIXEL_SPACING) + " value '"
                    + ds.string(PIXEL_SPACING) + "' is not positive");
        }
        return ps;
    }

    public static Volume readFile(Path file) throws IOException {
        return assemble(load(file, false), file);
    }

    public static Volume readSeries(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> st = Files.list(dir)) {
            files = st.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> !p.getFileName().toString().equalsIgnoreCase("DICOMDIR"))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .toList();
        }
        List<Frame> frames = new ArrayList<>();
        Map<String, Integer> series = new LinkedHashMap<>();
        int images = 0;
        for (Path f : files) {
            List<Frame> fs = load(f, true);
            if (!fs.isEmpty()) {
                images++;
                series.merge(String.valueOf(fs.get(0).ds().string(SERIES_UID)), 1, Integer::sum);
            }
            frames.addAll(fs);
        }
        if (frames.isEmpty()) {
            throw new InvalidInputException(dir, "no DICOM images in directory");
        }
        if (series.size() > 1) {
            throw new InvalidInputException(dir, "directory holds " + series.size()
                    + " DICOM series (SeriesInstanceUID -> files: " + series + "); put one series per directory");
        }
        if (images > 1 && frames.size() != images) {
            throw new InvalidInputException(dir, "multi-frame file inside a series directory is not supported;"
                    + " read the multi-frame file on its own");
        }
        return assemble(frames, dir);
    }

    private static Volume assemble(List<Frame> frames, Path where) throws InvalidInputException {
        Frame first = frames.get(0);
        int rows = first.ds().integer(DicomPixels.ROWS, 0);
        int cols = first.ds().integer(DicomPixels.COLUMNS, 0);
        boolean oneFile = frames.stream().map(Frame::file).distinct().count() == 1;
        String unit = oneFile ? "frame" : "file";
        for (Frame s : frames) {
            if (s.ds().integer(DicomPixels.ROWS, 0) != rows || s.ds().integer(DicomPixels.COLUMNS, 0) != cols) {
                throw new InvalidInputException(s.file(), "slice is " + s.ds().integer(DicomPixels.ROWS, 0) + "x"
                        + s.ds().integer(DicomPixels.COLUMNS, 0) + ", the series " + rows + "x" + cols);
            }
        }
        Set<String> stacks = new LinkedHashSet<>();
        for (Frame s : frames) {
            if (s.stack() != null) {
                stacks.add(s.stack());
            }
        }
        if (stacks.size() > 1) {
            throw new InvalidInputException(where, "the frames form " + stacks.size() + " stacks (StackID " + stacks
                    + "); one volume per file is read: split the stacks first (e.g. dcm2niix)");
        }
        double[] iop = first.iop() != null ? first.iop() : new double[] {1, 0, 0, 0, 1, 0};
        for (int i = 0; i < frames.size(); i++) {
            double[] o = frames.get(i).iop();
            if (o != null) {
                for (int a = 0; a < 6; a++) {
                    if (Math.abs(o[a] - iop[a]) > 1e-3) {
                        throw new InvalidInputException(oneFile ? where : frames.get(i).file(), (oneFile
                                ? "frame " + (i + 1) + " orientation " : "slice orientation ") + Arrays.toString(o)
                                + " differs from the first " + unit + "'s " + Arrays.toString(iop)
                                + ": several orientations (a localizer, or stacks of several planes) are not read as one volume");
                    }
                }
            }
        }
        double[] rowDir = {iop[0], iop[1], iop[2]};
        double[] colDir = {iop[3], iop[4], iop[5]};
        double[] normal = AffineMath.cross(rowDir, colDir);
        List<Frame> sorted = new ArrayList<>(frames);
        boolean positions = frames.stream().allMatch(s -> s.ipp() != null);
        if (frames.size() > 1) {
            if (positions) {
                sorted.sort(Comparator.comparingDouble(s -> AffineMath.dot(s.ipp(), normal)));
                for (int i = 1; i < sorted.size(); i++) {
                    double gap = AffineMath.dot(sorted.get(i).ipp(), normal) - AffineMath.dot(sorted.get(i - 1).ipp(), normal);
                    if (Math.abs(gap) < 1e-4) {
                        throw new InvalidInputException(where, name(sorted.get(i - 1), oneFile) + " and "
                                + name(sorted.get(i), oneFile) + " have the same slice position; several"
                                + " volumes (echoes, phases, times) in one " + (oneFile ? "file" : "series")
                                + " are not supported");
                    }
                }
            } else if (!oneFile) {
                Map<Frame, Integer> number = new java.util.IdentityHashMap<>();
                for (Frame s : frames) {
                    number.put(s, s.ds().integer(INSTANCE_NUMBER, Integer.MAX_VALUE));
                }
                sorted.sort(Comparator.comparingInt(number::get));
            }
        }
        double[] ps = first.spacing();
        for (Frame s : frames) {
            if (s.spacing() != null && ps != null && (Math.abs(s.spacing()[0] - ps[0]) > 1e-4
                    || Math.abs(s.spacing()[1] - ps[1]) > 1e-4)) {
                throw new InvalidInputException(oneFile ? where : s.file(), "PixelSpacing " + Arrays.toString(s.spacing())
                        + " differs from the first " + unit + "'s " + Arrays.toString(ps));
            }
        }
        double rowSpacing = ps != null ? ps[0] : 1;
        double colSpacing = ps != null ? ps[1] : 1;
        double between = first.ds().number(SPACING_BETWEEN, 0);
        double thick = first.ds().number(SLICE_THICKNESS, 0);
        double nominal = between > 0 ? between : thick > 0 ? thick : 1;
        double[] origin = sorted.get(0).ipp() != null ? sorted.get(0).ipp() : new double[3];
        double[] step;
        if (sorted.size() > 1 && positions) {
            double[] last = sorted.get(sorted.size() - 1).ipp();
            step = new double[3];
            for (int a = 0; a < 3; a++) {
                step[a] = (last[a] - origin[a]) / (sorted.size() - 1);
            }
        } else {
            step = new double[] {normal[0] * nominal, normal[1] * nominal, normal[2] * nominal};
        }
        double[] lps = {
            rowDir[0] * colSpacing, colDir[0] * rowSpacing, step[0], origin[0],
            rowDir[1] * colSpacing, colDir[1] * rowSpacing, step[1], origin[1],
            rowDir[2] * colSpacing, colDir[2] * rowSpacing, step[2], origin[2],
            0, 0, 0, 1};
        int frameSize = rows * cols;
        if ((long) sorted.size() * frameSize > DicomPixels.MAX_VOXELS) {
            throw new InvalidInputException(where, "DICOM volume of " + sorted.size() + " slices of " + rows + "x" + cols
                    + " exceeds the budget of " + DicomPixels.MAX_VOXELS + " voxels");
        }
        float[] vox = new float[sorted.size() * frameSize];
        List<DicomDataset> meta = new ArrayList<>();
        int k = 0;
        for (Frame s : sorted) {
            System.arraycopy(s.values(), 0, vox, k++ * frameSize, frameSize);
            meta.add(s.ds());
        }
        double[] spacing = {AffineMath.norm(step), rowSpacing, colSpacing};
        return new Volume(sorted.size(), rows, cols, vox, spacing, AffineMath.flipXY(lps), null, meta);
    }

    private static String name(Frame f, boolean oneFile) {
        return oneFile ? "frame " + f.ds().frameNumber() : "file " + f.file().getFileName();
    }
}
