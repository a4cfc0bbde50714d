package org.restorerwkv.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * DICOM reading: a single file (one or more frames) or a series directory. Geometry comes from
 * ImagePositionPatient / ImageOrientationPatient / PixelSpacing and is converted from DICOM LPS+
 * to the RAS+ affine of {@link Volume}. Slices of a series are sorted by their position projected
 * on the slice normal (row cosines x column cosines), else by InstanceNumber, else by file name.
 * Writing is in {@link DicomWriter}.
 */
public final class DicomFormat {

    static final int IPP = 0x00200032;
    static final int IOP = 0x00200037;
    static final int PIXEL_SPACING = 0x00280030;
    static final int SLICE_THICKNESS = 0x00180050;
    static final int SPACING_BETWEEN = 0x00180088;
    static final int INSTANCE_NUMBER = 0x00200013;
    static final int SERIES_UID = 0x0020000E;

    private DicomFormat() {}

    /** A file, or a directory holding one series. */
    public static Volume read(Path path) throws IOException {
        return Files.isDirectory(path) ? readSeries(path) : readFile(path);
    }

    /** One decoded file. */
    private record Slice(Path file, DicomDataset ds, List<float[]> frames) {}

    static Slice load(Path file, boolean quiet) throws IOException {
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(file, "DICOM file of " + size + " bytes is too large");
        }
        byte[] data = Files.readAllBytes(file);
        if (quiet && !DicomParser.looksLikeDicom(data)) {
            return null;
        }
        DicomDataset ds = DicomParser.parse(data, file);
        if (quiet && ds.get(DicomParser.PIXEL_DATA) == null) {
            return null; // DICOMDIR, structured reports and other non-image objects in a series folder
        }
        List<float[]> frames = DicomPixels.decode(ds, file);
        ds.remove(DicomParser.PIXEL_DATA);
        return new Slice(file, ds, frames);
    }

    public static Volume readFile(Path file) throws IOException {
        Slice s = load(file, false);
        return assemble(List.of(s), file);
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
        List<Slice> slices = new ArrayList<>();
        for (Path f : files) {
            Slice s = load(f, true);
            if (s != null) {
                slices.add(s);
            }
        }
        if (slices.isEmpty()) {
            throw new InvalidInputException(dir, "no DICOM images in directory");
        }
        Map<String, Integer> series = new LinkedHashMap<>();
        for (Slice s : slices) {
            series.merge(String.valueOf(s.ds().string(SERIES_UID)), 1, Integer::sum);
        }
        if (series.size() > 1) {
            throw new InvalidInputException(dir, "directory holds " + series.size()
                    + " DICOM series (SeriesInstanceUID -> files: " + series + "); put one series per directory");
        }
        return assemble(slices, dir);
    }

    private static Volume assemble(List<Slice> slices, Path where) throws InvalidInputException {
        DicomDataset first = slices.get(0).ds();
        int rows = first.integer(DicomPixels.ROWS, 0);
        int cols = first.integer(DicomPixels.COLUMNS, 0);
        for (Slice s : slices) {
            if (s.ds().integer(DicomPixels.ROWS, 0) != rows || s.ds().integer(DicomPixels.COLUMNS, 0) != cols) {
                throw new InvalidInputException(s.file(), "slice is " + s.ds().integer(DicomPixels.ROWS, 0) + "x"
                        + s.ds().integer(DicomPixels.COLUMNS, 0) + ", the series " + rows + "x" + cols);
            }
            if (slices.size() > 1 && s.frames().size() != 1) {
                throw new InvalidInputException(s.file(), "multi-frame file inside a series directory is not supported");
            }
        }
        double[] iop = first.numbers(IOP);
        if (iop == null || iop.length != 6) {
            iop = new double[] {1, 0, 0, 0, 1, 0};
        }
        for (Slice s : slices) {
            double[] o = s.ds().numbers(IOP);
            if (o != null && o.length == 6) {
                for (int a = 0; a < 6; a++) {
                    if (Math.abs(o[a] - iop[a]) > 1e-3) {
                        throw new InvalidInputException(s.file(), "slice orientation " + java.util.Arrays.toString(o)
                                + " differs from the series' " + java.util.Arrays.toString(iop)
                                + " (a localizer in the series?)");
                    }
                }
            }
        }
        double[] rowDir = {iop[0], iop[1], iop[2]};
        double[] colDir = {iop[3], iop[4], iop[5]};
        double[] normal = AffineMath.cross(rowDir, colDir);
        List<Slice> sorted = new ArrayList<>(slices);
        boolean positions = slices.stream().allMatch(s -> {
            double[] p = s.ds().numbers(IPP);
            return p != null && p.length == 3;
        });
        if (slices.size() > 1) {
            if (positions) {
                sorted.sort(Comparator.comparingDouble(s -> AffineMath.dot(s.ds().numbers(IPP), normal)));
                for (int i = 1; i < sorted.size(); i++) {
                    double gap = AffineMath.dot(sorted.get(i).ds().numbers(IPP), normal)
                            - AffineMath.dot(sorted.get(i - 1).ds().numbers(IPP), normal);
                    if (Math.abs(gap) < 1e-4) {
                        throw new InvalidInputException(where, "files " + sorted.get(i - 1).file().getFileName()
                                + " and " + sorted.get(i).file().getFileName() + " have the same slice position;"
                                + " several volumes (echoes, phases, times) in one series are not supported");
                    }
                }
            } else {
                sorted.sort(Comparator.comparingInt(s -> s.ds().integer(INSTANCE_NUMBER, Integer.MAX_VALUE)));
            }
        }
        double[] ps = first.numbers(PIXEL_SPACING);
        double rowSpacing = ps != null && ps.length == 2 && ps[0] > 0 ? ps[0] : 1;
        double colSpacing = ps != null && ps.length == 2 && ps[1] > 0 ? ps[1] : 1;
        double nominal = first.number(SPACING_BETWEEN, 0) > 0 ? first.number(SPACING_BETWEEN, 0)
                : first.number(SLICE_THICKNESS, 0) > 0 ? first.number(SLICE_THICKNESS, 0) : 1;
        double[] origin = positions ? sorted.get(0).ds().numbers(IPP) : new double[3];
        double[] step;
        if (sorted.size() > 1 && positions) {
            double[] last = sorted.get(sorted.size() - 1).ds().numbers(IPP);
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
        int depth = 0;
        for (Slice s : sorted) {
            depth += s.frames().size();
        }
        if ((long) depth * frameSize > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(where, "DICOM volume too large");
        }
        float[] vox = new float[depth * frameSize];
        List<DicomDataset> meta = new ArrayList<>();
        int k = 0;
        for (Slice s : sorted) {
            for (float[] f : s.frames()) {
                System.arraycopy(f, 0, vox, k++ * frameSize, frameSize);
            }
            meta.add(s.ds());
        }
        double[] spacing = {AffineMath.norm(step), rowSpacing, colSpacing};
        return new Volume(depth, rows, cols, vox, spacing, AffineMath.flipXY(lps), null, meta);
    }
}
