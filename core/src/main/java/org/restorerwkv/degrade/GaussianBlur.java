package org.restorerwkv.degrade;

/**
 * Separable Gaussian smoothing of a row-major slice, with a sampled kernel over +-ceil(4 sigma)
 * normalised to sum 1. Outside the slice the image is either zero (activity that ends at the slice
 * edge) or mirrored, {@code d c b a | a b c d | d c b a}, as {@code scipy.ndimage.gaussian_filter}'s
 * default mode "reflect" (for sigmas that are multiples of 0.25 px the two kernels are identical).
 */
public final class GaussianBlur {

    /** FWHM = 2 sqrt(2 ln 2) sigma. */
    public static final double FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.log(2));

    /** What the kernel sees beyond the slice's edges. */
    public enum Border {
        /** Zero outside: mass near the edge leaks out. */
        ZERO,
        /** Mirrored about the edge, repeatedly when the kernel is wider than the slice: a constant stays constant. */
        REFLECT
    }

    private GaussianBlur() {
    }

    /** Smooths with a Gaussian of std {@code sigmaPx} pixels, zero outside; sigma 0 returns a copy. */
    static double[] blur(double[] img, int height, int width, double sigmaPx) {
        return blur(img, height, width, sigmaPx, Border.ZERO);
    }

    /**
     * Smooths an H x W slice with a Gaussian of std {@code sigmaPx} pixels; sigma 0 returns a copy.
     * The input is not modified.
     *
     * @throws IllegalArgumentException for a negative or non-finite sigma, or a size that does not
     *     match the array
     */
    public static double[] blur(double[] img, int height, int width, double sigmaPx, Border border) {
        if (!(sigmaPx >= 0) || Double.isInfinite(sigmaPx)) {
            throw new IllegalArgumentException("Gaussian sigma must be finite and >= 0 px, got " + sigmaPx);
        }
        if (height <= 0 || width <= 0 || (long) height * width != img.length) {
            throw new IllegalArgumentException("slice " + height + "x" + width + " does not hold " + img.length + " values");
        }
        if (sigmaPx == 0) {
            return img.clone();
        }
        double[] k = kernel(sigmaPx);
        int r = k.length / 2;
        // horizontal pass: each row is copied into a buffer extended by r on both sides
        double[] tmp = new double[img.length];
        double[] ext = new double[width + 2 * r];
        for (int i = 0; i < height; i++) {
            int row = i * width;
            for (int q = 0; q < ext.length; q++) {
                int j = q - r;
                if (j >= 0 && j < width) {
                    ext[q] = img[row + j];
                } else {
                    ext[q] = border == Border.ZERO ? 0 : img[row + reflect(j, width)];
                }
            }
            for (int j = 0; j < width; j++) {
                double s = 0;
                for (int t = 0; t < k.length; t++) {
                    s += k[t] * ext[j + t];
                }
                tmp[row + j] = s;
            }
        }
        // vertical pass: whole rows accumulated tap by tap (rows are contiguous)
        double[] out = new double[img.length];
        for (int i = 0; i < height; i++) {
            int row = i * width;
            for (int t = 0; t < k.length; t++) {
                int src = i + t - r;
                if (src < 0 || src >= height) {
                    if (border == Border.ZERO) {
                        continue;
                    }
                    src = reflect(src, height);
                }
                double kt = k[t];
                int from = src * width;
                for (int j = 0; j < width; j++) {
                    out[row + j] += kt * tmp[from + j];
                }
            }
        }
        return out;
    }

    /** Index {@code i} mirrored into [0, n) about the edges (period 2n). */
    static int reflect(int i, int n) {
        int j = Math.floorMod(i, 2 * n);
        return j < n ? j : 2 * n - 1 - j;
    }

    /** Sampled Gaussian over +-4 sigma, normalised to sum 1. */
    private static double[] kernel(double sigma) {
        int r = (int) Math.ceil(4 * sigma);
        double[] k = new double[2 * r + 1];
        double sum = 0;
        for (int t = -r; t <= r; t++) {
            k[t + r] = Math.exp(-0.5 * t * t / (sigma * sigma));
            sum += k[t + r];
        }
        for (int t = 0; t < k.length; t++) {
            k[t] /= sum;
        }
        return k;
    }
}
