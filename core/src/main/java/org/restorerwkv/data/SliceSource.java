package org.restorerwkv.data;

import java.io.IOException;
import java.nio.file.Path;
import org.restorerwkv.io.HostTensor;

/**
 * Reads an image file as a stack of 2-D slices: a (depth, height, width) float32 tensor in
 * physical units (HU, SUV, MRI intensity). A 2-D image is a stack of one slice.
 */
public interface SliceSource {

    /** Whether this source reads the file (decided by its name). */
    boolean accepts(Path file);

    /**
     * The slices of a file as (depth, height, width).
     *
     * @throws org.restorerwkv.io.InvalidInputException if the file is unreadable, has an unusable
     *     shape or holds NaN
     */
    HostTensor read(Path file) throws IOException;
}
