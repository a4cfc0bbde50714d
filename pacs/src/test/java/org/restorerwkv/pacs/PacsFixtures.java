package org.restorerwkv.pacs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.restorerwkv.io.IoFixtures;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.io.dicom.Derivation;
import org.restorerwkv.io.dicom.DicomWriter;
import org.restorerwkv.io.dicom.UidStrategy;

/** Small DICOM series for the PACS tests, made from the core's test resources. */
public final class PacsFixtures {

    private PacsFixtures() {}

    /**
     * A CT series of {@code slices} slices made from CT_small.dcm (128x128): slice k is the
     * source + 7k HU, at its own position, with its own (repeatable) UIDs; the source's study.
     */
    public static List<Path> ctSeries(Path dir, int slices) throws IOException {
        Volume one = VolumeFormats.read(IoFixtures.resource("CT_small.dcm"));
        int n = one.sliceSize();
        float[] vox = new float[slices * n];
        for (int k = 0; k < slices; k++) {
            for (int i = 0; i < n; i++) {
                vox[k * n + i] = one.voxels()[i] + 7 * k;
            }
        }
        Volume v = new Volume(slices, one.height(), one.width(), vox, one.spacing(), one.affine(), null, one.dicom());
        DicomWriter.writeSeries(dir, v, Derivation.converted().withUids(UidStrategy.hashed("pacs test CT " + slices)));
        return files(dir);
    }

    /** The first two slices of the MR series brain_series (256x256, oblique) copied into dir. */
    public static List<Path> mrSeries(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (Path p : files(IoFixtures.resource("brain_series")).subList(0, 2)) {
            Files.copy(p, dir.resolve(p.getFileName()));
        }
        return files(dir);
    }

    public static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    /** The StudyInstanceUID and SeriesInstanceUID of a series folder. */
    public static String[] uids(Path dir) throws IOException {
        Volume v = VolumeFormats.read(dir);
        return new String[] {v.dicom().get(0).string(0x0020000D), v.dicom().get(0).string(0x0020000E)};
    }
}
