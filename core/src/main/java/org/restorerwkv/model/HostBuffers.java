package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Per-thread scratch memory of the inference fast path, reused across blocks and calls: fresh
 * allocations of tens of MB cost page faults on every call, and the JVM heap and direct buffers
 * then stay flat over repeated restorations. Each named slot grows to the largest size asked.
 */
final class HostBuffers {

    private static final ThreadLocal<HostBuffers> LOCAL = ThreadLocal.withInitial(HostBuffers::new);

    private final Map<String, float[]> arrays = new HashMap<>();
    private final Map<String, ByteBuffer> direct = new HashMap<>();
    /** {seconds, MACs} of this thread's matmuls while a pass is profiled ({@link #countMatmuls}), else null. */
    private double[] matmuls;

    static HostBuffers get() {
        return LOCAL.get();
    }

    /**
     * Runs one matmul of {@code macs} multiply-adds (a linear layer, an im2col product, the channel
     * MLP), adding its wall time to the tally while one is kept: the product's own speed, without
     * the element-wise work around it, for {@code bench --stages}.
     */
    void matmul(double macs, Runnable product) {
        if (matmuls == null) {
            product.run();
            return;
        }
        long t0 = System.nanoTime();
        product.run();
        matmuls[0] += (System.nanoTime() - t0) / 1e9;
        matmuls[1] += macs;
    }

    /** Starts tallying this thread's matmuls into {seconds, MACs} ({@code null}: stops). */
    void countMatmuls(double[] tally) {
        matmuls = tally;
    }

    /** A float array of at least n values (contents undefined). */
    float[] floats(String slot, long n) {
        float[] a = arrays.get(slot);
        if (a == null || a.length < n) {
            arrays.remove(slot); // the old array can be collected while the larger one is allocated
            a = new float[Math.toIntExact(n)];
            arrays.put(slot, a);
        }
        return a;
    }

    /**
     * Floats in the widest tensor of one row chunk (4 MB): libtorch's temporaries of that size are
     * served from glibc's heap again and again, where whole-image ones (up to 100s of MB) would be
     * fresh mmaps whose every page faults on first touch.
     */
    static final int CHUNK_FLOATS = 1 << 20;


    /**
     * out[r, :outCols] = f(x[r, :inCols]) for all rows, computed by libtorch in row chunks whose
     * widest tensor has {@code widest} columns; f maps an (n, inCols) array to an (n, outCols) one.
     */
    void chunked(float[] x, int inCols, float[] out, int outCols, int rows, int widest, int chunkFloats,
                 NDManager manager, UnaryOperator<NDArray> f) {
        int step = Math.max(64, chunkFloats / Math.max(widest, Math.max(inCols, outCols)));
        for (int r0 = 0; r0 < rows; r0 += step) {
            int n = Math.min(step, rows - r0);
            try (NDManager scope = manager.newSubManager()) {
                NDArray y = f.apply(wrap("chunk", x, (long) r0 * inCols, new Shape(n, inCols), scope));
                if (y.size() != (long) n * outCols) {
                    throw new IllegalStateException("chunk result " + y.getShape() + ", expected (" + n + ", " + outCols + ")");
                }
                y.toByteBuffer(true).asFloatBuffer().get(out, r0 * outCols, n * outCols);
            }
        }
    }

    /**
     * An NDArray over this thread's direct buffer {@code slot} holding data[offset, offset +
     * shape.size()) (one bulk copy, no native allocation). Valid until the slot is used again.
     */
    NDArray wrap(String slot, float[] data, long offset, Shape shape, NDManager manager) {
        int n = Math.toIntExact(shape.size());
        ByteBuffer b = direct.get(slot);
        if (b == null || b.capacity() < 4L * n) {
            b = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder());
            direct.put(slot, b);
        }
        ByteBuffer view = b.duplicate().order(ByteOrder.nativeOrder());
        view.limit(4 * n);
        view.asFloatBuffer().put(data, Math.toIntExact(offset), n);
        return manager.create(view.slice().order(ByteOrder.nativeOrder()), shape, DataType.FLOAT32);
    }

    /** Copies a contiguous float32 CPU array into dst (read straight from the tensor's memory). */
    static float[] read(NDArray a, float[] dst) {
        int n = Math.toIntExact(a.size());
        a.toByteBuffer(true).asFloatBuffer().get(dst, 0, n);
        return dst;
    }
}
