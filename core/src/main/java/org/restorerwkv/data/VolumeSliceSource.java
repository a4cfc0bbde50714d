package org.restorerwkv.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.VolumeFormats;

/**
 * Image files of every format {@link VolumeFormats} reads (NIfTI, DICOM file, NPY/NPZ, PNG,
 * TIFF), recognized by extension, as slice stacks in physical units. DICOM series folders are not
 * dataset entries: a dataset pairs files.
 */
public final class VolumeSliceSource implements SliceSource {

    private static final String[] EXTENSIONS = {".nii", ".nii.gz", ".dcm", ".dicom", ".npy", ".npz", ".png", ".tif", ".tiff"};

    @Override
    public boolean accepts(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        for (String e : EXTENSIONS) {
            if (name.endsWith(e)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public HostTensor read(Path file) throws IOException {
        return NpySliceSource.asStack(file, VolumeFormats.read(file).toHostTensor());
    }
}
