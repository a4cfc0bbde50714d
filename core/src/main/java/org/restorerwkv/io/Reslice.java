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
        return axis == 0 ? v : move(v, d, h, w, axis, true);
    }

    /** Inverse of {@link #forward}: back to (d, h, w). */
    public static float[] backward(float[] r, int d, int h, int w, int axis) {
        return axis == 0 ? r : move(r, d, h, w, axis, false);
    }

    /** Copies between the (d, h, w) order and the resliced one, in the direction asked. */
    private static float[] move(float[] a, int d, int h, int w, int axis, boolean toResliced) {
        float[] out = new float[a.length];
        for (int k = 0; k < d; k++) {
            for (int j = 0; j < h; j++) {
                for (int i = 0; i < w; i++) {
                    int stored = (k * h + j) * w + i;
                    int resliced = axis == 1 ? (j * d + k) * w + i : (i * d + k) * h + j;
                    if (toResliced) {
                        out[resliced] = a[stored];
                    } else {
                        out[stored] = a[resliced];
                    }
                }
            }
        }
        return out;
    }
}
