package org.restorerwkv.degrade;

import java.util.SplittableRandom;
import org.jtransforms.fft.DoubleFFT_2D;

/**
 * MRI super-resolution input as the reference builds it: the slice's 2-D k-space (its discrete
 * Fourier transform) is truncated to the central {@code 1/scale} of the frequencies along each
 * axis, the rest is zero-filled, and the magnitude of the inverse transform is returned at the
 * input's size. This is a low-resolution acquisition (fewer phase- and frequency-encoding steps)
 * reconstructed by zero-filling, with its ringing.
 *
 * <p>Kept band along an axis of n samples: the {@code m = max(1, floor(n / scale))} frequencies
 * {@code k = -floor(m/2) ... m - 1 - floor(m/2)} (cycles per field of view), i.e. the m samples
 * centred on DC after fftshift, which puts DC at index floor(n/2). For even m one extra negative
 * frequency is kept; the magnitude removes the small imaginary part this leaves.
 *
 * <p>Noise ({@code noiseSigma}, in the slice's intensity units, default 0): i.i.d. complex
 * Gaussian noise is added to the acquired (kept) k-space samples only, scaled so that a fully
 * sampled acquisition would show noise of std {@code noiseSigma} in each of the real and imaginary
 * parts of the image; after truncation the image noise std per part is
 * {@code noiseSigma * sqrt(kept fraction)}, and the magnitude makes it Rician (Rayleigh where
 * there is no signal). IXI T1 intensities span [0, 4095].
 *
 * <p>Scale 1 without noise is the identity (the input is returned unchanged); otherwise the input
 * is taken as a real image and the output is non-negative.
 */
public record MriKspace(double scale, double noiseSigma) implements Degradation {

    public static final String TASK = "mri-sr";

    public MriKspace {
        if (!(scale >= 1) || !Double.isFinite(scale)) {
            throw new IllegalArgumentException("scale must be >= 1 and finite, got " + scale);
        }
        Slices.requireNonNegative("noise sigma", noiseSigma);
    }

    public MriKspace(double scale) {
        this(scale, 0);
    }

    @Override
    public String task() {
        return TASK;
    }

    @Override
    public String describe() {
        return TASK + ": central 1/" + scale + " of k-space per axis kept, zero-filled, magnitude"
                + (noiseSigma > 0 ? ", complex Gaussian noise sigma " + noiseSigma + " (image units, full sampling)" : "");
    }

    /** Number of frequencies kept along an axis of n samples. */
    public int keptFrequencies(int n) {
        return Math.max(1, (int) Math.floor(n / scale));
    }

    /**
     * Whether FFT-order index {@code idx} (0 = DC, n - 1 = frequency -1) of an axis of n samples
     * lies in the kept band.
     */
    public boolean isKept(int idx, int n) {
        int m = keptFrequencies(n);
        int k = idx <= (n - 1) / 2 ? idx : idx - n; // signed frequency
        int lo = -(m / 2);
        int hi = m - 1 - m / 2;
        return k >= lo && k <= hi;
    }

    @Override
    public float[] apply(float[] slice, int height, int width, long seed) {
        Slices.check(slice, height, width);
        if (scale == 1 && noiseSigma == 0) {
            return slice.clone();
        }
        double[] c = complexImage(slice, height, width, seed);
        float[] out = new float[slice.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) Math.hypot(c[2 * i], c[2 * i + 1]);
        }
        return out;
    }

    /**
     * The degraded image before the magnitude: interleaved (re, im) pairs, row-major,
     * {@code 2 * height * width} values.
     */
    public double[] complexImage(float[] slice, int height, int width, long seed) {
        Slices.check(slice, height, width);
        double[] a = new double[2 * height * width];
        for (int i = 0; i < slice.length; i++) {
            a[2 * i] = slice[i];
        }
        DoubleFFT_2D fft = Fft.plan2d(height, width);
        fft.complexForward(a);
        boolean[] keepRow = new boolean[height];
        boolean[] keepCol = new boolean[width];
        for (int i = 0; i < height; i++) {
            keepRow[i] = isKept(i, height);
        }
        for (int j = 0; j < width; j++) {
            keepCol[j] = isKept(j, width);
        }
        SplittableRandom rng = noiseSigma > 0 ? new SplittableRandom(seed) : null;
        // unnormalised forward DFT: white image noise of std s per part has std s sqrt(N) in k-space
        double kSigma = noiseSigma * Math.sqrt((double) height * width);
        for (int i = 0; i < height; i++) {
            for (int j = 0; j < width; j++) {
                int p = 2 * (i * width + j);
                if (keepRow[i] && keepCol[j]) {
                    if (rng != null) {
                        a[p] += kSigma * rng.nextGaussian();
                        a[p + 1] += kSigma * rng.nextGaussian();
                    }
                } else {
                    a[p] = 0;
                    a[p + 1] = 0;
                }
            }
        }
        fft.complexInverse(a, true);
        return a;
    }
}
