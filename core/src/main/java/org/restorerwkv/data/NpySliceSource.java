package org.restorerwkv.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Npy;

/**
 * NumPy {@code .npy} files as slice stacks: (H, W) is one slice, (D, H, W) is D slices; leading
 * axes of size 1 are dropped, so (1, 1, H, W) is one slice too.
 */
public final class NpySliceSource implements SliceSource {

    @Override
    public boolean accepts(Path file) {
        return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy");
    }

    @Override
    public HostTensor read(Path file) throws IOException {
        return asStack(file, Npy.read(file));
    }

    /** Views an array of rank 2 or more (extra leading axes of size 1) as (depth, height, width). */
    static HostTensor asStack(Path file, HostTensor t) throws InvalidInputException {
        long[] s = t.shape();
        int lead = 0;
        while (s.length - lead > 3 && s[lead] == 1) {
            lead++;
        }
        long[] core = Arrays.copyOfRange(s, lead, s.length);
        long[] dhw;
        if (core.length == 2) {
            dhw = new long[] {1, core[0], core[1]};
        } else if (core.length == 3) {
            dhw = core;
        } else {
            throw new InvalidInputException(file, "expected a 2-D slice or a (depth, height, width) stack, got shape "
                    + Arrays.toString(s));
        }
        if (dhw[0] < 1 || dhw[1] < 1 || dhw[2] < 1) {
            throw new InvalidInputException(file, "empty image, shape " + Arrays.toString(s));
        }
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            if (Float.isNaN(d[i])) {
                throw new InvalidInputException(file, "NaN at flat index " + i);
            }
        }
        return new HostTensor(dhw, d);
    }
}
