package org.restorerwkv.degrade;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Contrast- and shape-randomized MRI slices made from one real scan, after SynthSR / SynthSeg
 * (Billot et al.), which train contrast-agnostic networks from a few label maps: each call draws a
 * new tissue contrast, geometry, bias field, resolution, noise level and gamma, so a single
 * training subject yields slices that look like many scanners and sequences.
 *
 * <p>Tissue classes. {@link #fit} takes the scan's intensity classes: background is the voxels
 * below 10% of the 99.5th percentile that are connected to the slice border (air outside the head),
 * the rest is split into {@code classes} intensity classes by 1-D k-means (centres started at
 * evenly spaced quantiles). Instead of hard labels each voxel keeps its position between the two
 * nearest class centres, so partial volume and the scan's own texture survive the new contrast.
 *
 * <p>Per slice, with a {@link SplittableRandom} of the slice's seed ({@link Params#draw}):
 * <ol>
 *   <li>contrast: class centre k gets a random intensity in [0, 1] (any order: T1, T2, PD-like or
 *       none of these), background one in [0, {@value #MAX_BACKGROUND}]; voxels are interpolated
 *       linearly between the centres' new values;</li>
 *   <li>shape: a random affine map (rotation, per-axis scale, shear, translation) composed with a
 *       smooth elastic displacement (a 5 x 5 grid of Gaussian displacements, bilinearly
 *       upsampled), bilinear resampling, background value outside;</li>
 *   <li>a multiplicative bias field, {@code exp} of a bilinearly upsampled 4 x 4 Gaussian grid;</li>
 *   <li>blur to a coarser resolution: Gaussian of a random sigma (mirrored borders);</li>
 *   <li>normalisation to [0, 1] by the 99.5th percentile and a random gamma;</li>
 *   <li>Rician noise of a random sigma: {@code sqrt((x + n1)^2 + n2^2)};</li>
 * </ol>
 * and the result is scaled back to the scan's 99.5th percentile, so intensity scalings that
 * normalise by a percentile see the range of the real scan. The slice's size never changes.
 *
 * <p>Deterministic: the output depends only on the fitted classes, the slice and the seed.
 * Immutable and thread-safe.
 */
public final class MriSynth {

    /** Largest background intensity, relative to the brightest class. */
    public static final double MAX_BACKGROUND = 0.1;
    /** Range of the rotation, degrees either way. */
    public static final double MAX_ROTATION_DEG = 15;
    /** Range of the per-axis scale factor, 1 +- this. */
    public static final double MAX_SCALE = 0.15;
    /** Range of each shear term. */
    public static final double MAX_SHEAR = 0.1;
    /** Range of the translation, fraction of the slice size either way. */
    public static final double MAX_SHIFT = 0.05;
    /** Largest std of the elastic grid displacements, px. */
    public static final double MAX_ELASTIC_PX = 3;
    /** Largest std of the log bias field. */
    public static final double MAX_BIAS = 0.3;
    /** Largest blur sigma, px. */
    public static final double MAX_BLUR_PX = 1.2;
    /** Std of log(gamma). */
    public static final double LOG_GAMMA_STD = 0.25;
    /** log(gamma) is clipped to +- this. */
    public static final double MAX_LOG_GAMMA = 0.6;
    /** Largest Rician noise sigma, relative to the 99.5th percentile. */
    public static final double MAX_NOISE = 0.05;

    private static final int ELASTIC_GRID = 5;
    private static final int BIAS_GRID = 4;

    private final float[] centres;
    private final float backgroundThreshold;
    private final float scale;

    private MriSynth(float[] centres, float backgroundThreshold, float scale) {
        this.centres = centres;
        this.backgroundThreshold = backgroundThreshold;
        this.scale = scale;
    }

    /**
     * The intensity classes of a scan (its voxels, any layout).
     *
     * @param classes number of non-background classes, 2..16
     * @throws IllegalArgumentException for NaN voxels, too few classes, or a scan without
     *     foreground
     */
    public static MriSynth fit(float[] voxels, int classes) {
        if (classes < 2 || classes > 16) {
            throw new IllegalArgumentException("classes must be in 2..16, got " + classes);
        }
        float[] sorted = voxels.clone();
        Arrays.sort(sorted);
        if (sorted.length == 0 || Float.isNaN(sorted[sorted.length - 1])) {
            throw new IllegalArgumentException("scan is empty or holds NaN");
        }
        float p995 = sorted[(int) Math.min(sorted.length - 1, Math.round(0.995 * (sorted.length - 1)))];
        float lo = sorted[0];
        if (!(p995 > lo)) {
            throw new IllegalArgumentException("scan has no contrast (99.5th percentile = minimum)");
        }
        float threshold = (float) (lo + 0.1 * (p995 - lo));
        int first = 0;
        while (first < sorted.length && sorted[first] < threshold) {
            first++;
        }
        int n = sorted.length - first;
        if (n < classes) {
            throw new IllegalArgumentException("scan has too little foreground for " + classes + " classes");
        }
        // k-means in 1-D on the sorted foreground, over at most 65536 evenly spaced samples
        int m = Math.min(n, 65536);
        double[] x = new double[m];
        for (int i = 0; i < m; i++) {
            x[i] = Math.min(sorted[first + (int) ((long) i * n / m)], p995);
        }
        double[] c = new double[classes];
        for (int k = 0; k < classes; k++) {
            c[k] = x[(int) ((k + 0.5) * m / classes)];
        }
        for (int iter = 0; iter < 50; iter++) {
            double[] sum = new double[classes];
            int[] cnt = new int[classes];
            int k = 0;
            for (double v : x) { // x is sorted, so the nearest centre only moves up
                while (k + 1 < classes && Math.abs(v - c[k + 1]) <= Math.abs(v - c[k])) {
                    k++;
                }
                sum[k] += v;
                cnt[k]++;
            }
            boolean moved = false;
            for (int j = 0; j < classes; j++) {
                double nc = cnt[j] > 0 ? sum[j] / cnt[j] : c[j];
                moved |= Math.abs(nc - c[j]) > 1e-6 * p995;
                c[j] = nc;
            }
            Arrays.sort(c);
            if (!moved) {
                break;
            }
        }
        float[] cf = new float[classes];
        for (int k = 0; k < classes; k++) {
            cf[k] = (float) c[k];
        }
        for (int k = 1; k < classes; k++) { // strictly increasing, for the interpolation
            cf[k] = Math.max(cf[k], Math.nextUp(cf[k - 1]));
        }
        return new MriSynth(cf, threshold, p995);
    }

    /** The class centres, increasing. */
    public float[] centres() {
        return centres.clone();
    }

    /** One line for manifests: the model with {@code classes} intensity classes. */
    public static String describe(int classes) {
        return String.format(Locale.ROOT, "mri-synth: %d intensity classes (k-means), random contrast, affine"
                + " (rot +-%.0f deg, scale 1+-%.2f, shear +-%.2f, shift +-%.0f%%), elastic (std <= %.1f px), bias"
                + " field (log std <= %.2f), blur (sigma <= %.1f px), gamma (log std %.2f), Rician noise (<= %.0f%%)",
                classes, MAX_ROTATION_DEG, MAX_SCALE, MAX_SHEAR, 100 * MAX_SHIFT, MAX_ELASTIC_PX, MAX_BIAS,
                MAX_BLUR_PX, LOG_GAMMA_STD, 100 * MAX_NOISE);
    }

    /** The random draws of one slice. */
    public record Params(double[] classValues, double background, double rotationRad, double scaleY, double scaleX,
            double shearY, double shearX, double shiftY, double shiftX, double elasticPx, double biasStd,
            double blurPx, double gamma, double noise) {

        /** Draws every parameter from {@code rng} in a fixed order. */
        public static Params draw(int classes, SplittableRandom rng) {
            double[] values = new double[classes];
            for (int k = 0; k < classes; k++) {
                values[k] = rng.nextDouble();
            }
            double bg = MAX_BACKGROUND * rng.nextDouble();
            double rot = Math.toRadians(MAX_ROTATION_DEG) * (2 * rng.nextDouble() - 1);
            double sy = 1 + MAX_SCALE * (2 * rng.nextDouble() - 1);
            double sx = 1 + MAX_SCALE * (2 * rng.nextDouble() - 1);
            double hy = MAX_SHEAR * (2 * rng.nextDouble() - 1);
            double hx = MAX_SHEAR * (2 * rng.nextDouble() - 1);
            double ty = MAX_SHIFT * (2 * rng.nextDouble() - 1);
            double tx = MAX_SHIFT * (2 * rng.nextDouble() - 1);
            double el = MAX_ELASTIC_PX * rng.nextDouble();
            double bias = MAX_BIAS * rng.nextDouble();
            double blur = MAX_BLUR_PX * rng.nextDouble();
            double lg = Math.max(-MAX_LOG_GAMMA, Math.min(MAX_LOG_GAMMA, LOG_GAMMA_STD * rng.nextGaussian()));
            double noise = MAX_NOISE * rng.nextDouble();
            return new Params(values, bg, rot, sy, sx, hy, hx, ty, tx, el, bias, blur, Math.exp(lg), noise);
        }
    }

    /**
     * One synthetic slice of an H x W slice of the fitted scan, seeded by {@code seed}; the input
     * is not modified.
     */
    public float[] apply(float[] slice, int height, int width, long seed) {
        if (height <= 0 || width <= 0 || (long) height * width != slice.length) {
            throw new IllegalArgumentException("slice " + height + "x" + width + " does not hold " + slice.length + " values");
        }
        SplittableRandom rng = new SplittableRandom(seed);
        Params p = Params.draw(centres.length, rng);
        int n = slice.length;
        boolean[] bg = background(slice, height, width);
        double[] img = new double[n];
        for (int i = 0; i < n; i++) {
            img[i] = bg[i] ? p.background() : contrast(slice[i], p);
        }
        img = warp(img, height, width, p, rng);
        double[] bias = smoothField(height, width, BIAS_GRID, p.biasStd(), rng);
        for (int i = 0; i < n; i++) {
            img[i] *= Math.exp(bias[i]);
        }
        img = GaussianBlur.blur(img, height, width, p.blurPx(), GaussianBlur.Border.REFLECT);
        double[] sorted = img.clone();
        Arrays.sort(sorted);
        double top = sorted[(int) Math.min(n - 1, Math.round(0.995 * (n - 1)))];
        double norm = top > 0 ? top : 1;
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double v = Math.pow(Math.max(0, img[i] / norm), p.gamma());
            double n1 = p.noise() * rng.nextGaussian();
            double n2 = p.noise() * rng.nextGaussian();
            out[i] = (float) (scale * Math.sqrt((v + n1) * (v + n1) + n2 * n2));
        }
        return out;
    }

    /** The new intensity of a foreground voxel: linear between the class centres' new values. */
    private double contrast(float v, Params p) {
        double[] y = p.classValues();
        if (v <= centres[0]) { // from the background value at the threshold up to the first class
            double t = (v - backgroundThreshold) / Math.max(1e-12, centres[0] - backgroundThreshold);
            t = Math.max(0, Math.min(1, t));
            return p.background() + t * (y[0] - p.background());
        }
        int k = Arrays.binarySearch(centres, v);
        if (k >= 0) {
            return y[k];
        }
        int hi = -k - 1;
        if (hi >= centres.length) {
            return y[centres.length - 1];
        }
        double t = (v - centres[hi - 1]) / (centres[hi] - centres[hi - 1]);
        return y[hi - 1] + t * (y[hi] - y[hi - 1]);
    }

    /** Dark voxels 4-connected to the slice border. */
    private boolean[] background(float[] slice, int h, int w) {
        boolean[] bg = new boolean[slice.length];
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int j = 0; j < h; j++) {
            for (int i = 0; i < w; i++) {
                if ((j == 0 || i == 0 || j == h - 1 || i == w - 1) && slice[j * w + i] < backgroundThreshold) {
                    bg[j * w + i] = true;
                    queue.add(j * w + i);
                }
            }
        }
        while (!queue.isEmpty()) {
            int q = queue.poll();
            int j = q / w;
            int i = q % w;
            int[] nb = {j > 0 ? q - w : -1, j < h - 1 ? q + w : -1, i > 0 ? q - 1 : -1, i < w - 1 ? q + 1 : -1};
            for (int r : nb) {
                if (r >= 0 && !bg[r] && slice[r] < backgroundThreshold) {
                    bg[r] = true;
                    queue.add(r);
                }
            }
        }
        return bg;
    }

    /**
     * Resamples {@code img} at x' = A (x - c) + c + t + d(x): the output pixel x reads the input at
     * the affine image of x plus the elastic displacement d; bilinear, background value outside.
     */
    private static double[] warp(double[] img, int h, int w, Params p, SplittableRandom rng) {
        double[] dy = smoothField(h, w, ELASTIC_GRID, p.elasticPx(), rng);
        double[] dx = smoothField(h, w, ELASTIC_GRID, p.elasticPx(), rng);
        double cos = Math.cos(p.rotationRad());
        double sin = Math.sin(p.rotationRad());
        // A = R * [[sy, hy], [hx, sx]]
        double a00 = cos * p.scaleY() - sin * p.shearX();
        double a01 = cos * p.shearY() - sin * p.scaleX();
        double a10 = sin * p.scaleY() + cos * p.shearX();
        double a11 = sin * p.shearY() + cos * p.scaleX();
        double cy = (h - 1) / 2.0;
        double cx = (w - 1) / 2.0;
        double ty = p.shiftY() * h;
        double tx = p.shiftX() * w;
        double[] out = new double[img.length];
        for (int j = 0; j < h; j++) {
            for (int i = 0; i < w; i++) {
                int q = j * w + i;
                double y = a00 * (j - cy) + a01 * (i - cx) + cy + ty + dy[q];
                double x = a10 * (j - cy) + a11 * (i - cx) + cx + tx + dx[q];
                out[q] = bilinear(img, h, w, y, x, p.background());
            }
        }
        return out;
    }

    private static double bilinear(double[] img, int h, int w, double y, double x, double outside) {
        if (!(y >= 0 && y <= h - 1 && x >= 0 && x <= w - 1)) {
            return outside;
        }
        int j = Math.min((int) y, Math.max(0, h - 2));
        int i = Math.min((int) x, Math.max(0, w - 2));
        double fy = y - j;
        double fx = x - i;
        int j1 = Math.min(j + 1, h - 1);
        int i1 = Math.min(i + 1, w - 1);
        return (1 - fy) * ((1 - fx) * img[j * w + i] + fx * img[j * w + i1])
                + fy * ((1 - fx) * img[j1 * w + i] + fx * img[j1 * w + i1]);
    }

    /** A g x g grid of N(0, std) values bilinearly upsampled to h x w (corners on the corners). */
    private static double[] smoothField(int h, int w, int g, double std, SplittableRandom rng) {
        double[] grid = new double[g * g];
        for (int k = 0; k < grid.length; k++) {
            grid[k] = std * rng.nextGaussian();
        }
        double[] out = new double[h * w];
        for (int j = 0; j < h; j++) {
            double y = h > 1 ? (double) j * (g - 1) / (h - 1) : 0;
            for (int i = 0; i < w; i++) {
                double x = w > 1 ? (double) i * (g - 1) / (w - 1) : 0;
                out[j * w + i] = bilinear(grid, g, g, y, x, 0);
            }
        }
        return out;
    }
}
