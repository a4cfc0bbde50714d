package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Host floats into libtorch-owned memory. {@code NDManager.create(float[])} copies into a new JVM
 * direct buffer, which is freed only when the garbage collector gets to it (rarely, with a large
 * heap), so repeated restorations would grow the process's memory; a tensor allocated by libtorch
 * is freed as soon as its manager closes.
 */
public final class NativeArrays {

    private NativeArrays() {}

    /** A float32 CPU tensor of {@code shape} holding data[0, shape.size()). */
    public static NDArray fromHost(NDManager manager, float[] data, Shape shape) {
        int n = Math.toIntExact(shape.size());
        if (data.length < n) {
            throw new IllegalArgumentException("need " + n + " values for " + shape + ", got " + data.length);
        }
        NDArray a = manager.create(shape, DataType.FLOAT32);
        a.toByteBuffer(true).asFloatBuffer().put(data, 0, n);
        return a;
    }
}
