package org.restorerwkv.degrade;

import java.util.Arrays;

/**
 * A brain FDG-PET activity slice made from a T1-weighted MRI slice, for PET experiments when only
 * MRI is at hand.
 *
 * <p>Tissue classes: the head is separated from the background by Otsu's threshold on the whole
 * slice, with dark regions enclosed by the head (ventricles, bone) filled in, i.e. background is
 * what connects to the slice border below the threshold; head pixels are split into three intensity classes by 1-D k-means (T1: CSF dark, grey
 * matter intermediate, white matter bright). FDG uptake grey : white : CSF = 4 : 1 : 0, scaled so
 * grey matter has {@code greySuv} (default 8, typical cortical SUV 8-10 at 60 min); background 0.
 * The activity is then smoothed with a Gaussian of the scanner's resolution {@code fwhmMm}
 * (default 5 mm) given the pixel spacing (IXI T1: about 0.94 mm).
 *
 * <p>No skull stripping: scalp fat and marrow, bright in T1, land in the white-matter class and
 * get white-matter uptake (about 2 SUV, near that of muscle and scalp); dark bone joins CSF or
 * the background at 0.
 */
public final class PetPhantom {

    public static final int BACKGROUND = 0;
    public static final int CSF = 1;
    public static final int GREY = 2;
    public static final int WHITE = 3;

    private static final int HISTOGRAM_BINS = 256;

    private PetPhantom() {
    }

    /** Defaults: pixel 0.94 mm (IXI), resolution 5 mm FWHM, grey matter 8 SUV. */
    public static float[] fromT1(float[] t1, int height, int width) {
        return fromT1(t1, height, width, 0.94, 5.0, 8.0);
    }

    /**
     * Activity in SUV.
     *
     * @param pixelMm pixel spacing of the T1 slice, mm
     * @param fwhmMm PET resolution, mm (0 = no smoothing)
     * @param greySuv grey-matter activity, SUV
     */
    public static float[] fromT1(float[] t1, int height, int width, double pixelMm, double fwhmMm,
            double greySuv) {
        Slices.requirePositive("pixel spacing (mm)", pixelMm);
        Slices.requireNonNegative("PET resolution FWHM (mm)", fwhmMm);
        Slices.requirePositive("grey-matter SUV", greySuv);
        int[] labels = classify(t1, height, width);
        double[] uptake = new double[4];
        uptake[GREY] = greySuv;
        uptake[WHITE] = greySuv / 4;
        double[] act = new double[labels.length];
        for (int i = 0; i < act.length; i++) {
            act[i] = uptake[labels[i]];
        }
        double[] smooth = GaussianBlur.blur(act, height, width, fwhmMm / GaussianBlur.FWHM_PER_SIGMA / pixelMm);
        float[] out = new float[act.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) smooth[i];
        }
        return out;
    }

    /**
     * Tissue label per pixel: {@link #BACKGROUND}, {@link #CSF}, {@link #GREY} or {@link #WHITE}.
     * A slice without two distinct intensities is all background.
     */
    public static int[] classify(float[] t1, int height, int width) {
        Slices.check(t1, height, width);
        int[] labels = new int[t1.length];
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (float v : t1) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        if (!(max > min)) {
            return labels;
        }
        double threshold = otsu(t1, min, max);
        boolean[] inHead = fillHoles(t1, height, width, threshold);
        int count = 0;
        for (boolean b : inHead) {
            if (b) {
                count++;
            }
        }
        if (count == 0) {
            return labels;
        }
        double[] head = new double[count];
        int k = 0;
        for (int i = 0; i < t1.length; i++) {
            if (inHead[i]) {
                head[k++] = t1[i];
            }
        }
        double[] centres = kMeans3(head);
        for (int i = 0; i < t1.length; i++) {
            if (inHead[i]) {
                labels[i] = CSF + nearest(centres, t1[i]);
            }
        }
        return labels;
    }

    /** Pixels not joined to the border through 4-connected pixels at or below the threshold. */
    static boolean[] fillHoles(float[] v, int height, int width, double threshold) {
        boolean[] outside = new boolean[v.length];
        int[] queue = new int[v.length];
        int head = 0;
        int tail = 0;
        for (int i = 0; i < height; i++) {
            for (int j = 0; j < width; j++) {
                int p = i * width + j;
                if ((i == 0 || j == 0 || i == height - 1 || j == width - 1) && v[p] <= threshold && !outside[p]) {
                    outside[p] = true;
                    queue[tail++] = p;
                }
            }
        }
        while (head < tail) {
            int p = queue[head++];
            int i = p / width;
            int j = p % width;
            int[] nb = {i > 0 ? p - width : -1, i < height - 1 ? p + width : -1, j > 0 ? p - 1 : -1,
                j < width - 1 ? p + 1 : -1};
            for (int q : nb) {
                if (q >= 0 && !outside[q] && v[q] <= threshold) {
                    outside[q] = true;
                    queue[tail++] = q;
                }
            }
        }
        boolean[] inside = new boolean[v.length];
        for (int p = 0; p < v.length; p++) {
            inside[p] = !outside[p];
        }
        return inside;
    }

    /** Otsu's threshold: the histogram cut maximising the between-class variance. */
    static double otsu(float[] v, double min, double max) {
        long[] hist = new long[HISTOGRAM_BINS];
        double width = (max - min) / HISTOGRAM_BINS;
        for (float x : v) {
            hist[Math.min(HISTOGRAM_BINS - 1, (int) ((x - min) / width))]++;
        }
        double total = v.length;
        double sumAll = 0;
        for (int b = 0; b < HISTOGRAM_BINS; b++) {
            sumAll += b * (double) hist[b];
        }
        double w0 = 0;
        double sum0 = 0;
        double best = -1;
        int cut = 0;
        for (int b = 0; b < HISTOGRAM_BINS - 1; b++) {
            w0 += hist[b];
            sum0 += b * (double) hist[b];
            double w1 = total - w0;
            if (w0 == 0 || w1 == 0) {
                continue;
            }
            double m0 = sum0 / w0;
            double m1 = (sumAll - sum0) / w1;
            double between = w0 * w1 * (m0 - m1) * (m0 - m1);
            if (between > best) {
                best = between;
                cut = b;
            }
        }
        return min + (cut + 1) * width; // upper edge of the last background bin
    }

    /** Lloyd's 1-D k-means with three centres started at the 1/6, 1/2, 5/6 quantiles; sorted. */
    static double[] kMeans3(double[] x) {
        double[] sorted = x.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        double[] c = {sorted[n / 6], sorted[n / 2], sorted[Math.min(n - 1, 5 * n / 6)]};
        for (int iter = 0; iter < 100; iter++) {
            double[] sum = new double[3];
            int[] cnt = new int[3];
            for (double v : sorted) {
                int k = nearest(c, v);
                sum[k] += v;
                cnt[k]++;
            }
            boolean moved = false;
            for (int k = 0; k < 3; k++) {
                double nc = cnt[k] > 0 ? sum[k] / cnt[k] : c[k];
                moved |= nc != c[k];
                c[k] = nc;
            }
            if (!moved) {
                break;
            }
        }
        Arrays.sort(c);
        return c;
    }

    private static int nearest(double[] c, double v) {
        int best = 0;
        for (int k = 1; k < c.length; k++) {
            if (Math.abs(v - c[k]) < Math.abs(v - c[best])) {
                best = k;
            }
        }
        return best;
    }
}
