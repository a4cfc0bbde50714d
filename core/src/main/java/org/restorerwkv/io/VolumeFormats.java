package org.restorerwkv.io;

import org.restorerwkv.io.dicom.Derivation;
import org.restorerwkv.io.dicom.DicomFormat;
import org.restorerwkv.io.dicom.DicomWriter;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Picks the reader of a file by its magic bytes (extension only as a last resort) and the writer
 * by the output name.
 *
 * <p>Inputs: a directory (DICOM series), NIfTI-1/2 ({@code .nii}, {@code .nii.gz}), DICOM with or
 * without preamble, NumPy {@code .npy} / {@code .npz} (a single array of rank 2 or 3, or leading
 * axes of size 1), PNG, TIFF, InVesalius projects ({@code .inv3}, see {@link Inv3Format}).
 *
 * <p>Outputs by name: {@code .nii} / {@code .nii.gz} (float32, see {@link NiftiFormat}),
 * {@code .dcm} (one slice), an existing directory or a name without extension (DICOM series, see
 * {@link DicomWriter}), {@code .npy} (float32, shape (D, H, W)), {@code .npz} (one array named
 * "volume"), {@code .png} / {@code .tif} / {@code .tiff} (16-bit grey, see {@link ImageFormat}).
 */
public final class VolumeFormats {

    private VolumeFormats() {}

    /** File name endings of the image formats, longest first (".nii.gz" before ".nii"). */
    public static final List<String> IMAGE_EXTENSIONS =
            List.of(".nii.gz", ".nii", ".inv3", ".dicom", ".dcm", ".npy", ".npz", ".png", ".tiff", ".tif");

    /** A file name without its image extension: "case01.nii.gz" -> "case01" (matching across formats). */
    public static String stem(String fileName) {
        String lower = fileName.toLowerCase(Locale.ROOT);
        for (String ext : IMAGE_EXTENSIONS) {
            if (lower.endsWith(ext) && lower.length() > ext.length()) {
                return fileName.substring(0, fileName.length() - ext.length());
            }
        }
        return fileName;
    }

    /** Output kinds by name. */
    public enum OutputKind { NIFTI, DICOM_FILE, DICOM_SERIES, NPY, NPZ, PNG, TIFF }

    public static Volume read(Path in) throws IOException {
        return read(in, ReadLimits.DEFAULT);
    }

    /**
     * Reads any supported input within {@code limits} (declared sizes checked before allocating,
     * compressed content bounded while it inflates; DICOM applies its own checks).
     */
    public static Volume read(Path in, ReadLimits limits) throws IOException {
        if (Files.isDirectory(in)) {
            return DicomFormat.readSeries(in);
        }
        if (!Files.isRegularFile(in)) {
            throw new InvalidInputException(in, "no such file or directory");
        }
        byte[] head;
        try (InputStream s = Files.newInputStream(in)) {
            head = s.readNBytes(1024);
        }
        // DICOM first: a DICOM preamble may itself hold a TIFF header (dual-personality files)
        if (head.length >= 132 && head[128] == 'D' && head[129] == 'I' && head[130] == 'C' && head[131] == 'M') {
            return DicomFormat.readFile(in);
        }
        if (NiftiFormat.isGzip(head)) {
            byte[] inner;
            try (InputStream s = new GZIPInputStream(Files.newInputStream(in))) {
                inner = s.readNBytes(540);
            } catch (IOException e) {
                throw new InvalidInputException(in, "corrupt gzip stream (" + e.getMessage() + ")", e);
            }
            if (Inv3Format.looksLikeTar(inner)) {
                return Inv3Format.read(in, limits);
            }
            if (!NiftiFormat.looksLikeNifti(inner)) {
                throw new InvalidInputException(in, "gzip file that holds neither a NIfTI image nor an InVesalius project");
            }
            return NiftiFormat.read(in, limits);
        }
        if (NiftiFormat.looksLikeNifti(head)) {
            return NiftiFormat.read(in, limits);
        }
        if (head.length >= 6 && (head[0] & 0xff) == 0x93 && head[1] == 'N' && head[2] == 'U') {
            return fromArray(in, Npy.read(in, limits));
        }
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            Map<String, HostTensor> arrays = Npy.readNpz(in, limits);
            if (arrays.size() != 1) {
                throw new InvalidInputException(in, ".npz holds " + arrays.size() + " arrays " + arrays.keySet()
                        + "; a volume needs exactly one");
            }
            return fromArray(in, arrays.values().iterator().next());
        }
        if (ImageFormat.isPng(head) || ImageFormat.isTiff(head)) {
            return ImageFormat.read(in, limits);
        }
        String name = in.getFileName().toString().toLowerCase(Locale.ROOT);
        if (DicomFormat.looksLikeDicom(head) || name.endsWith(".dcm") || name.endsWith(".dicom")) {
            return DicomFormat.readFile(in);
        }
        throw new InvalidInputException(in, "unrecognised file format (expected NIfTI, DICOM, NPY/NPZ, PNG, TIFF or InVesalius .inv3)");
    }

    private static Volume fromArray(Path in, HostTensor t) throws InvalidInputException {
        try {
            return Volume.of(t);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(in, e.getMessage());
        }
    }

    /** What {@link #write} makes of a path; throws for names it cannot map. */
    public static OutputKind outputKind(Path out) throws InvalidInputException {
        String name = out.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".nii") || name.endsWith(".nii.gz")) {
            return OutputKind.NIFTI;
        }
        if (name.endsWith(".dcm")) {
            return OutputKind.DICOM_FILE;
        }
        if (name.endsWith(".npy")) {
            return OutputKind.NPY;
        }
        if (name.endsWith(".npz")) {
            return OutputKind.NPZ;
        }
        if (name.endsWith(".png")) {
            return OutputKind.PNG;
        }
        if (name.endsWith(".tif") || name.endsWith(".tiff")) {
            return OutputKind.TIFF;
        }
        if (Files.isDirectory(out) || !name.contains(".")) {
            return OutputKind.DICOM_SERIES;
        }
        throw new InvalidInputException(out, "unknown output format; use .nii, .nii.gz, .dcm, a directory"
                + " (DICOM series), .npy, .npz, .png, .tif or .tiff");
    }

    /**
     * Refuses, before any work, an output {@link #write} could not create: a name it cannot map, a
     * file name that is a directory, a DICOM series folder that exists and is not empty, a parent
     * that is a regular file or an unwritable folder.
     */
    public static void checkWritable(Path out) throws IOException {
        if (outputKind(out) == OutputKind.DICOM_SERIES) {
            AtomicFiles.checkWritableFolder(out);
            if (Files.isDirectory(out)) {
                try (java.util.stream.Stream<Path> s = Files.list(out)) {
                    if (s.findAny().isPresent()) {
                        throw new OutputFileException(out, "output directory exists and is not empty");
                    }
                }
            }
        } else {
            AtomicFiles.checkWritableFile(out);
        }
    }

    /**
     * True for a file name whose extension names a format other than DICOM: a folder of files none
     * of which is such is read as one DICOM series (by {@code restore}, the Spark job, ...).
     */
    public static boolean isKnownNonDicom(String fileName) {
        String n = fileName.toLowerCase(Locale.ROOT);
        return n.endsWith(".nii") || n.endsWith(".nii.gz") || n.endsWith(".npy") || n.endsWith(".npz")
                || n.endsWith(".png") || n.endsWith(".tif") || n.endsWith(".tiff") || n.endsWith(".inv3");
    }

    /** Writes {@code v} as a conversion (a DICOM output says "converted"); see {@link #write(Path, Volume, Derivation)}. */
    public static void write(Path out, Volume v) throws IOException {
        write(out, v, Derivation.converted());
    }

    /**
     * Writes {@code v} in the format {@code out}'s name picks. {@code derivation} says what was done
     * to the source; DICOM outputs record it (and take their series number, UIDs and, for inputs
     * without DICOM metadata, identifiers from it); other formats ignore it.
     */
    public static void write(Path out, Volume v, Derivation derivation) throws IOException {
        switch (outputKind(out)) {
            case NIFTI -> NiftiFormat.write(out, v);
            case DICOM_FILE -> DicomWriter.writeFile(out, v, derivation);
            case DICOM_SERIES -> DicomWriter.writeSeries(out, v, derivation);
            case NPY -> Npy.write(out, v.toHostTensor());
            case NPZ -> AtomicFiles.write(out, os -> {
                ZipOutputStream zip = new ZipOutputStream(os);
                zip.putNextEntry(new ZipEntry("volume.npy"));
                Npy.write(zip, v.toHostTensor());
                zip.closeEntry();
                zip.finish();
            });
            case PNG, TIFF -> ImageFormat.write(out, v);
        }
    }

    /** Reads {@code in} (any readable format) and writes it as {@code out}'s format. */
    public static void convert(Path in, Path out) throws IOException {
        convert(in, out, ReadLimits.DEFAULT, false, Derivation.converted());
    }

    /** As {@link #convert(Path, Path)}, with the DICOM output's series number, UIDs and identifiers from {@code d}. */
    public static void convert(Path in, Path out, Derivation d) throws IOException {
        convert(in, out, ReadLimits.DEFAULT, false, d);
    }

    /**
     * {@link #convert(Path, Path)} within {@code limits}, the DICOM output's series number, UIDs and
     * identifiers from {@code d}; a volume holding NaN or infinite values is refused unless
     * {@code allowNonFinite} (most viewers and pipelines cannot use them).
     */
    public static void convert(Path in, Path out, ReadLimits limits, boolean allowNonFinite, Derivation d)
            throws IOException {
        checkWritable(out); // fail on a bad output before reading a large input
        Volume v = read(in, limits);
        if (!allowNonFinite) {
            long bad = countNonFinite(v.voxels());
            if (bad > 0) {
                throw new InvalidInputException(in, bad + " voxel(s) are NaN or infinite; --allow-nonfinite writes them anyway");
            }
        }
        write(out, v, d);
    }

    /** How many values are NaN or infinite. */
    public static long countNonFinite(float[] values) {
        long n = 0;
        for (float x : values) {
            if (!Float.isFinite(x)) {
                n++;
            }
        }
        return n;
    }
}
