package org.restorerwkv.degrade;

import org.jtransforms.fft.DoubleFFT_1D;
import org.jtransforms.fft.DoubleFFT_2D;
import pl.edu.icm.jlargearrays.ConcurrencyUtils;

/**
 * JTransforms entry point. JTransforms would otherwise start its own non-daemon thread pool for
 * large transforms; parallelism belongs to the caller (one slice per thread), so it is limited to
 * the calling thread once, here. Plans are created per call: they are cheap next to the work and
 * this keeps every simulator free of shared mutable state.
 */
final class Fft {

    static {
        ConcurrencyUtils.setNumberOfThreads(1);
    }

    private Fft() {
    }

    static DoubleFFT_1D plan1d(int n) {
        return new DoubleFFT_1D(n);
    }

    static DoubleFFT_2D plan2d(int rows, int columns) {
        return new DoubleFFT_2D(rows, columns);
    }

    /** Smallest power of two >= n. */
    static int nextPowerOfTwo(int n) {
        int p = 1;
        while (p < n) {
            p <<= 1;
        }
        return p;
    }
}
