package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * Per-thread scratch memory of the inference fast path, reused across blocks and calls: fresh
 * allocations of tens of MB cost page faults on every call, and the JVM heap and direct buffers
 * then stay flat over repeated restorations. Each named slot grows to the largest size asked.
 */
final class HostBuffers {

    private static final ThreadLocal<HostBuffers> LOCAL = ThreadLocal.withInitial(HostBuffers::new);

    private final Map<String, float[]> arrays = new HashMap<>();
    private final Map<String, ByteBuffer> direct = new HashMap<>();

    static HostBuffers get() {
        return LOCAL.get();
    }

    /** A float array of at least n values (contents undefined). */
    float[] floats(String slot, long n) {
        float[] a = arrays.get(slot);
        if (a == null || a.length < n) {
            a = new float[Math.toIntExact(n)];
            arrays.put(slot, a);
        }
        return a;
    }

    /**
     * An NDArray over this thread's direct buffer {@code slot} holding data[0, shape.size()) (one
     * bulk copy, no native allocation). Valid until the slot is used again: close it before.
     */
    NDArray wrap(String slot, float[] data, Shape shape, NDManager manager) {
        int n = Math.toIntExact(shape.size());
        ByteBuffer b = direct.get(slot);
        if (b == null || b.capacity() < 4L * n) {
            b = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder());
            direct.put(slot, b);
        }
        ByteBuffer view = b.duplicate().order(ByteOrder.nativeOrder());
        view.limit(4 * n);
        view.asFloatBuffer().put(data, 0, n);
        return manager.create(view.slice().order(ByteOrder.nativeOrder()), shape, DataType.FLOAT32);
    }

    /** Copies a contiguous float32 CPU array into dst (read straight from the tensor's memory). */
    static float[] read(NDArray a, float[] dst) {
        int n = Math.toIntExact(a.size());
        a.toByteBuffer(true).asFloatBuffer().get(dst, 0, n);
        return dst;
    }
}
