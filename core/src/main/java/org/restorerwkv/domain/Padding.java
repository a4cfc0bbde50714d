package org.restorerwkv.domain;

/**
 * Reflect padding of (C, H, W) planes to a multiple of a stride, and cropping back. Reflection
 * (edge pixel not repeated, as PyTorch's 'reflect') folds back and forth, so any pad amount works,
 * even one larger than the image.
 */
public final class Padding {

    private Padding() {}

    /** The smallest multiple of {@code m} that is >= n. */
    public static int roundUp(int n, int m) {
        return (n + m - 1) / m * m;
    }

    /** Source index of padded position i in [0, n + pad) for a signal of length n. */
    public static int reflect(int i, int n) {
        if (n == 1) {
            return 0;
        }
        int period = 2 * (n - 1);
        int j = Math.floorMod(i, period);
        return j < n ? j : period - j;
    }

    /** Pads c planes of h x w (bottom and right) to ph x pw by reflection. */
    public static float[] pad(float[] src, int c, int h, int w, int ph, int pw) {
        if (ph == h && pw == w) {
            return src;
        }
        float[] out = new float[c * ph * pw];
        for (int k = 0; k < c; k++) {
            for (int y = 0; y < ph; y++) {
                int sy = reflect(y, h);
                int so = (k * h + sy) * w;
                int o = (k * ph + y) * pw;
                System.arraycopy(src, so, out, o, w);
                for (int x = w; x < pw; x++) {
                    out[o + x] = src[so + reflect(x, w)];
                }
            }
        }
        return out;
    }

    /** Crops c planes of ph x pw back to their top-left h x w. */
    public static float[] crop(float[] src, int c, int ph, int pw, int h, int w) {
        if (ph == h && pw == w) {
            return src;
        }
        float[] out = new float[c * h * w];
        for (int k = 0; k < c; k++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(src, (k * ph + y) * pw, out, (k * h + y) * w, w);
            }
        }
        return out;
    }
}
