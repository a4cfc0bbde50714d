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

    /** First index of {@code pat} in {@code b} at or after {@code from}; fails the test when absent. */
    public static int indexOf(byte[] b, byte[] pat, int from) {
        outer:
        for (int i = from; i <= b.length - pat.length; i++) {
            for (int k = 0; k < pat.length; k++) {
                if (b[i + k] != pat[k]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("pattern not found");
    }
}
