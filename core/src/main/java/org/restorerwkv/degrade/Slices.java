package org.restorerwkv.degrade;

/** Argument checks shared by the simulators. */
final class Slices {

    private Slices() {
    }

    /** Rejects sizes that do not describe {@code data} and values that are not finite. */
    static void check(float[] data, int height, int width) {
        if (data == null) {
            throw new IllegalArgumentException("slice is null");
        }
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("slice size " + height + "x" + width + " is not positive");
        }
        if ((long) height * width != data.length) {
            throw new IllegalArgumentException(
                    "slice size " + height + "x" + width + " needs " + (long) height * width
                            + " values, array has " + data.length);
        }
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                throw new IllegalArgumentException(
                        "slice value at row " + i / width + ", column " + i % width + " is " + data[i]);
            }
        }
    }

    static double requirePositive(String name, double v) {
        if (!(v > 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException(name + " must be positive and finite, got " + v);
        }
        return v;
    }

    static double requireNonNegative(String name, double v) {
        if (!(v >= 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException(name + " must be >= 0 and finite, got " + v);
        }
        return v;
    }

    static int requirePositive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be a positive integer, got " + v);
        }
        return v;
    }
}
