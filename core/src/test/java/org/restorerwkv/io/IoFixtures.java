package org.restorerwkv.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Locating committed fixtures under src/test/resources/io and comparing arrays. */
public final class IoFixtures {

    private IoFixtures() {}

    public static Path resource(String name) {
        try {
            return Path.of(IoFixtures.class.getResource("/io/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource io/" + name, e);
        }
    }

    public static void assertVoxelsEqual(float[] expected, float[] actual, float tol, String what) {
        assertEquals(expected.length, actual.length, what + ": voxel count");
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(expected[i] - actual[i]) > tol) {
                throw new AssertionError(what + ": voxel " + i + " expected " + expected[i] + " got " + actual[i]);
            }
        }
    }

    public static void assertAffineEquals(double[] expected, double[] actual, double tol, String what) {
        for (int i = 0; i < 16; i++) {
            if (Math.abs(expected[i] - actual[i]) > tol) {
                throw new AssertionError(what + ": affine[" + i + "] expected " + expected[i] + " got " + actual[i]
                        + "\nexpected " + java.util.Arrays.toString(expected) + "\nactual   "
                        + java.util.Arrays.toString(actual));
            }
        }
    }

    /** A 4x4 float64 .npy as a row-major double[16] (Npy gives float32, enough for mm geometry). */
    public static double[] affine(String name) throws java.io.IOException {
        float[] f = Npy.read(resource(name)).data();
        double[] d = new double[16];
        for (int i = 0; i < 16; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
