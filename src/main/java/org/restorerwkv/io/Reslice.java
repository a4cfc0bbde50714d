package org.restorerwkv.io;

/**
 * Reorders a (D, H, W) voxel block so that slices are taken along another axis, and back. Axis 0
 * keeps the stored (acquisition) slices; axis 1 slices along rows, axis 2 along columns.
 */
public final class Reslice {

    private Reslice() {}

    /** Shape (d, h, w) seen with {@code axis} first: the other two keep their order. */
    public static int[] shape(int d, int h, int w, int axis) {
        return switch (axis) {
            case 0 -> new int[] {d, h, w};
            case 1 -> new int[] {h, d, w};
            case 2 -> new int[] {w, d, h};
            default -> throw new IllegalArgumentException("axis must be 0, 1 or 2, got " + axis);
        };
    }

    /** Voxels of (d, h, w) rearranged to {@link #shape}(d, h, w, axis). */
    public static float[] forward(float[] v, int d, int h, int w, int axis) {
        if (axis == 0) {
            return v;
        }
        float[] out = new float[v.length];
        for (int k = 0; k < d; k++) {
            for (int j = 0; j < h; j++) {
                for (int i = 0; i < w; i++) {
                    int src = (k * h + j) * w + i;
                    int dst = axis == 1 ? (j * d + k) * w + i : (i * d + k) * h + j;
                    out[dst] = v[src];
                }
            }
        }
        return out;
    }

    /** Inverse of {@link #forward}: back to (d, h, w). */
    public static float[] backward(float[] r, int d, int h, int w, int axis) {
        if (axis == 0) {
            return r;
        }
        float[] out = new float[r.length];
        for (int k = 0; k < d; k++) {
            for (int j = 0; j < h; j++) {
                for (int i = 0; i < w; i++) {
                    int dst = (k * h + j) * w + i;
                    int src = axis == 1 ? (j * d + k) * w + i : (i * d + k) * h + j;
                    out[dst] = r[src];
                }
            }
        }
        return out;
    }
}
