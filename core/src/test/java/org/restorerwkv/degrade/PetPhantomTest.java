package org.restorerwkv.degrade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PetPhantomTest {

    static final int N = 160;

    /** Region of a synthetic T1 slice: 0 background, 1 CSF, 2 grey, 3 white. */
    static int region(int i, int j) {
        double r = Math.hypot(i - 0.5 * N, j - 0.5 * N);
        if (r > 70) {
            return 0;
        }
        if (r > 48) {
            return 2; // cortical ribbon, 22 px thick
        }
        if (r > 16) {
            return 3;
        }
        return 1; // central ventricle
    }

    /** T1 intensities: CSF dark, grey intermediate, white bright; noisy air around. */
    static float[] t1() {
        double[] level = {15, 250, 600, 900};
        SplittableRandom rng = new SplittableRandom(5);
        float[] img = new float[N * N];
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                img[i * N + j] = (float) Math.abs(level[region(i, j)] + 30 * rng.nextGaussian());
            }
        }
        return img;
    }

    @Test
    void classifiesTissues() {
        int[] labels = PetPhantom.classify(t1(), N, N);
        int wrong = 0;
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                int truth = region(i, j);
                if (labels[i * N + j] != truth) {
                    wrong++;
                }
            }
        }
        assertTrue(wrong < 0.01 * N * N, wrong + " mislabelled pixels");
    }

    @Test
    void uptakeOrderingGreyWhiteCsf() {
        float[] act = PetPhantom.fromT1(t1(), N, N, 1.0, 5.0, 8.0);
        double[] sum = new double[4];
        int[] cnt = new int[4];
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                double r = Math.hypot(i - 0.5 * N, j - 0.5 * N);
                // sample region cores, 5 px (> 2 sigma of the 5 mm FWHM blur) from every boundary
                int k = r < 11 ? 1 : (r > 21 && r < 43) ? 3 : (r > 53 && r < 65) ? 2 : r > 75 ? 0 : -1;
                if (k >= 0) {
                    sum[k] += act[i * N + j];
                    cnt[k]++;
                }
            }
        }
        double bg = sum[0] / cnt[0];
        double csf = sum[1] / cnt[1];
        double grey = sum[2] / cnt[2];
        double white = sum[3] / cnt[3];
        assertTrue(grey > white && white > csf, grey + " > " + white + " > " + csf);
        assertEquals(8.0, grey, 0.3, "grey SUV");
        assertEquals(2.0, white, 0.2, "white SUV");
        assertEquals(0.0, csf, 0.3, "CSF SUV");
        assertEquals(0.0, bg, 0.05, "background");
    }

    @Test
    void smoothingWidthFollowsFwhm() {
        // a point of activity blurred to 6 mm FWHM at 1.5 mm pixels: 4 px FWHM
        double[] img = new double[41 * 41];
        img[20 * 41 + 20] = 1;
        double[] b = GaussianBlur.blur(img, 41, 41, 6.0 / GaussianBlur.FWHM_PER_SIGMA / 1.5);
        double peak = b[20 * 41 + 20];
        double atHalfWidth = b[20 * 41 + 22];
        assertEquals(0.5, atHalfWidth / peak, 1e-3);
        double total = 0;
        for (double v : b) {
            total += v;
        }
        assertEquals(1.0, total, 1e-12);
    }

    @Test
    void constantSliceIsAllBackground() {
        float[] flat = new float[100];
        java.util.Arrays.fill(flat, 7f);
        for (float v : PetPhantom.fromT1(flat, 10, 10)) {
            assertEquals(0f, v);
        }
    }
}
