package org.restorerwkv.degrade;

/** Separable Gaussian smoothing of a row-major slice; zero outside the slice. */
final class GaussianBlur {

    /** FWHM = 2 sqrt(2 ln 2) sigma. */
    static final double FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.log(2));

    private GaussianBlur() {
    }

    /** Smooths with a Gaussian of std {@code sigmaPx} pixels; sigma 0 returns a copy. */
    static double[] blur(double[] img, int height, int width, double sigmaPx) {
        if (sigmaPx == 0) {
            return img.clone();
        }
        double[] k = kernel(sigmaPx);
        int r = k.length / 2;
        double[] tmp = new double[img.length];
        for (int i = 0; i < height; i++) {
            for (int j = 0; j < width; j++) {
                double s = 0;
                for (int t = Math.max(-r, -j); t <= Math.min(r, width - 1 - j); t++) {
                    s += k[t + r] * img[i * width + j + t];
                }
                tmp[i * width + j] = s;
            }
        }
        double[] out = new double[img.length];
        for (int i = 0; i < height; i++) {
            for (int j = 0; j < width; j++) {
                double s = 0;
                for (int t = Math.max(-r, -i); t <= Math.min(r, height - 1 - i); t++) {
                    s += k[t + r] * tmp[(i + t) * width + j];
                }
                out[i * width + j] = s;
            }
        }
        return out;
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
