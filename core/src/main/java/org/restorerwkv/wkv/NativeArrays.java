package org.restorerwkv.wkv;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Arrays in libtorch-owned memory. {@code NDManager.create(float[])} and DJL's scalar arithmetic
 * ({@code x.mul(Number)}, {@code x.div(Number)}) put the data on a JVM direct buffer, which is freed
 * only when the garbage collector gets to it: repeated restorations would grow the process's memory.
 * Worse, DJL closes the scalar of {@code mul/div(Number)} right after the operation while libtorch's
 * backward keeps the tensor and reads it later, possibly from freed memory (measured: ±infinity
 * gradients of {@code spatial_decay / T} in some training steps). A tensor that libtorch allocates
 * itself is freed when its manager closes and nothing in libtorch holds it any more.
 */
public final class NativeArrays {

    private NativeArrays() {}

    /**
     * A float32 tensor of {@code shape} on the manager's device holding data[0, shape.size()).
     *
     * <p>The data are written into a CPU tensor's own memory ({@code toByteBuffer(true)} is a view of
     * it only on the CPU: for a GPU tensor DJL 0.33 hands out a temporary host copy, and writing
     * that would leave the device memory uninitialised), which is then copied to the device.
     */
    public static NDArray fromHost(NDManager manager, float[] data, Shape shape) {
        int n = Math.toIntExact(shape.size());
        if (data.length < n) {
            throw new IllegalArgumentException("need " + n + " values for " + shape + ", got " + data.length);
        }
        Device device = manager.getDevice();
        if (device.isGpu()) {
            try (NDArray host = manager.create(shape, DataType.FLOAT32, Device.cpu())) {
                host.toByteBuffer(true).asFloatBuffer().put(data, 0, n);
                return host.toDevice(device, true);
            }
        }
        NDArray a = manager.create(shape, DataType.FLOAT32);
        a.toByteBuffer(true).asFloatBuffer().put(data, 0, n);
        return a;
    }

    /** A 0-d tensor of value v with x's type, device and manager (for arithmetic autograd differentiates). */
    public static NDArray scalarLike(NDArray x, double v) {
        return x.getManager().full(new Shape(), (float) v, x.getDataType()).toDevice(x.getDevice(), false);
    }
}
