package org.restorerwkv.wkv;

/**
 * Per-thread scratch arrays of the CPU kernels, reused across calls: a kernel keeps one thread-local
 * set of slots, and each slot grows (its contents dropped) to the largest size asked. Fresh arrays
 * on every call would fault their pages in again each time and, at image sizes, make the JVM heap
 * grow to hold them between collections.
 */
final class Scratch {

    private Scratch() {}

    static ThreadLocal<double[][]> doubleSlots(int slots) {
        return ThreadLocal.withInitial(() -> new double[slots][0]);
    }

    static ThreadLocal<float[][]> floatSlots(int slots) {
        return ThreadLocal.withInitial(() -> new float[slots][0]);
    }

    static ThreadLocal<int[][]> intSlots(int slots) {
        return ThreadLocal.withInitial(() -> new int[slots][0]);
    }

    /** This thread's slot {@code slot}, at least n long (contents undefined). */
    static double[] doubles(ThreadLocal<double[][]> set, int slot, int n) {
        double[][] a = set.get();
        if (a[slot].length < n) {
            a[slot] = null; // collectable while its successor is allocated
            a[slot] = new double[n];
        }
        return a[slot];
    }

    /** This thread's slot {@code slot}, at least n long (contents undefined). */
    static float[] floats(ThreadLocal<float[][]> set, int slot, int n) {
        float[][] a = set.get();
        if (a[slot].length < n) {
            a[slot] = null;
            a[slot] = new float[n];
        }
        return a[slot];
    }

    /** This thread's slot {@code slot}, at least n long (contents undefined). */
    static int[] ints(ThreadLocal<int[][]> set, int slot, int n) {
        int[][] a = set.get();
        if (a[slot].length < n) {
            a[slot] = null;
            a[slot] = new int[n];
        }
        return a[slot];
    }
}
