package org.restorerwkv.data;

/**
 * Reflection padding of 2-D slices, the way the reference brings a full slice to a size the
 * network accepts (H, W multiples of 8) and crops the output back.
 *
 * <p>Reflection mirrors about the edge pixel without repeating it (PyTorch's "reflect"); indices
 * that fall further out than one image length are reflected again, so any pad amount works, also
 * for images narrower than the pad.
 */
public final class Padding {

    private Padding() {}

    /** Index {@code i} (any integer) reflected into [0, n). */
    public static int reflect(int i, int n) {
        if (n == 1) {
            return 0;
        }
        int period = 2 * (n - 1);
        int m = Math.floorMod(i, period);
        return m < n ? m : period - m;
    }

    /** Smallest multiple of {@code multiple} that is >= n. */
    public static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    /**
     * Pads an h x w slice (row-major) to newH x newW by reflection at the bottom and right.
     * Returns a new array.
     */
    public static float[] padBottomRight(float[] src, int h, int w, int newH, int newW) {
        float[] out = new float[newH * newW];
        for (int y = 0; y < newH; y++) {
            int sy = reflect(y, h) * w;
            for (int x = 0; x < newW; x++) {
                out[y * newW + x] = src[sy + reflect(x, w)];
            }
        }
        return out;
    }

    /** The top-left h x w window of a paddedH x paddedW slice. Returns a new array. */
    public static float[] cropTopLeft(float[] src, int paddedW, int h, int w) {
        float[] out = new float[h * w];
        for (int y = 0; y < h; y++) {
            System.arraycopy(src, y * paddedW, out, y * w, w);
        }
        return out;
    }
}
