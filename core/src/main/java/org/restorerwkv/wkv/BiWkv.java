package org.restorerwkv.wkv;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Bi-WKV, the bidirectional weighted-key-value attention of Vision-RWKV, per batch b and channel c,
 * for tokens t = 0..T-1 in scan order, with w = spatial_decay/T and u = spatial_first/T:
 *
 * <pre>
 *          sum_{i != t} exp(-(|t-i|-1) w + k_i) v_i  +  exp(u + k_t) v_t
 *   y_t = ----------------------------------------------------------------
 *          sum_{i != t} exp(-(|t-i|-1) w + k_i)      +  exp(u + k_t)
 * </pre>
 *
 * <p>Both implementations split the sum into a left part (i &lt; t), a right part (i &gt; t) and
 * the self term in O(T·C); neither forms a T×T matrix (the differentiable form works in chunks of
 * 64 tokens: an L×L matrix per channel within a chunk, prefix/suffix sums across chunks). They
 * stabilize exponents the same way:
 * keys are shifted by their per-channel maximum (the shift cancels in the ratio), and the sums run
 * in float64, whose range (e^±709) holds the decay factors exp(±|spatial_decay|) and key spreads
 * for |spatial_decay| and |k| far beyond the 100 and 50 that trained models reach. (The fused
 * kernel sums within a chunk in float lanes where a chunk's terms provably fit float's range, and
 * carries between chunks in float64; see {@code Simd.Kernel#narrow}.)
 *
 * <ul>
 *   <li>{@link #differentiable}: DJL ops (a batched matmul per chunk, exclusive prefix/suffix
 *       cumsums across chunks), any device, recorded
 *       by autograd: used for training.
 *   <li>{@link #fused}: one plain-Java pass per direction over the tensor's memory, threads over
 *       batch×channel blocks, one exp per element: used for inference on CPU.
 * </ul>
 */
public final class BiWkv {

    private BiWkv() {}

    /** Sets how many threads the fused kernels use (default: available processors). */
    public static void setThreads(int n) {
        Parallel.setThreads(n);
    }

    public static int threads() {
        return Parallel.threads();
    }

    /**
     * Bi-WKV in scan order along axis 1, differentiable (see {@link DifferentiableBiWkv}).
     *
     * @param w decay per channel, already divided by T, shape (C)
     * @param u self bonus per channel, already divided by T, shape (C)
     * @param k keys (B, T, C)
     * @param v values (B, T, C)
     * @return y (B, T, C), same dtype as v
     */
    public static NDArray differentiable(NDArray w, NDArray u, NDArray k, NDArray v) {
        return DifferentiableBiWkv.forward(w, u, k, v);
    }

    /**
     * Bi-WKV for inference: the fused CPU kernel. {@code columnMajor} scans the (H, W) token grid
     * column by column (t' = x*H + y) while k, v and y stay in row-major token layout, so the
     * second Re-WKV recurrence needs no transposes.
     *
     * @param w decay per channel /T, (C)
     * @param u self bonus per channel /T, (C)
     * @param k (B, T, C), T = height*width, row-major tokens
     * @param v (B, T, C)
     * @param out (B, T, C) receives y; may be v itself, not k
     */
    public static void fused(float[] w, float[] u, float[] k, float[] v, float[] out,
                             int bsz, int height, int width, int ch, boolean columnMajor) {
        long n = (long) bsz * height * width * ch;
        if (k.length != n || v.length != n || out.length != n) {
            throw new IllegalArgumentException("Bi-WKV: inconsistent sizes");
        }
        fused(w, u, k, 0, ch, v, 0, ch, out, ch, bsz, height, width, ch, columnMajor);
    }

    /**
     * The fused kernel on strided token rows: element (b, t, c) of k is
     * {@code k[kOff + (b*T + t)*kStride + c]}, likewise v, and of out {@code out[(b*T + t)*outStride + c]};
     * k and v may be column blocks of one (B*T, 3C) projection. out may be v itself when
     * vOff = 0 and vStride = outStride (each element is read before it is overwritten), never k.
     */
    public static void fused(float[] w, float[] u, float[] k, int kOff, int kStride, float[] v, int vOff, int vStride,
                             float[] out, int outStride, int bsz, int height, int width, int ch, boolean columnMajor) {
        long rows = (long) bsz * height * width;
        if (w.length != ch || u.length != ch || kStride < ch || vStride < ch || outStride < ch
                || k.length < kOff + (rows - 1) * kStride + ch || v.length < vOff + (rows - 1) * vStride + ch
                || out.length < (rows - 1) * outStride + ch || out == k
                || (out == v && (vOff != 0 || vStride != outStride))) {
            throw new IllegalArgumentException("Bi-WKV: inconsistent sizes");
        }
        Strides st = new Strides(kOff, kStride, vOff, vStride, outStride);
        if (VectorSupport.AVAILABLE) {
            SimdBiWkv.fused(w, u, k, v, out, st, bsz, height, width, ch, columnMajor);
            return;
        }
        ScalarBiWkv.fused(w, u, k, v, out, st, bsz, height, width, ch, columnMajor);
    }

    /** True when the fused kernel runs on the JDK's vector API (module jdk.incubator.vector present). */
    public static boolean simd() {
        return VectorSupport.AVAILABLE;
    }

    /** The fused kernel on one implementation, dense (B, T, C) arrays: for tests of each. */
    static void fused(boolean simd, float[] w, float[] u, float[] k, float[] v, float[] out,
                      int bsz, int height, int width, int ch, boolean columnMajor) {
        Strides st = new Strides(0, ch, 0, ch, ch);
        if (simd) {
            SimdBiWkv.fused(w, u, k, v, out, st, bsz, height, width, ch, columnMajor);
        } else {
            ScalarBiWkv.fused(w, u, k, v, out, st, bsz, height, width, ch, columnMajor);
        }
    }


    record Strides(int kOff, int k, int vOff, int v, int out) {}

    /** Fused kernel on NDArrays: copies k, v to the JVM once and y back once. */
    public static NDArray fused(NDArray w, NDArray u, NDArray k, NDArray v, int height, int width, boolean columnMajor) {
        Shape s = k.getShape();
        int bsz = (int) s.get(0);
        int ch = (int) s.get(2);
        float[] y = new float[(int) s.size()];
        fused(w.toFloatArray(), u.toFloatArray(), k.toFloatArray(), v.toFloatArray(), y,
                bsz, height, width, ch, columnMajor);
        return NativeArrays.fromHost(k.getManager(), y, s);
    }

    /**
     * The backward of Bi-WKV on dense (B, T, C) arrays, scanning an h x w grid by rows or columns as
     * {@link #fused}: from y (the forward's output) and gy = dL/dy, writes gk = dL/dk and gv = dL/dv
     * and adds dL/dw, dL/du per channel (summed over the batch) into gw and gu. With D_t the
     * denominator, p_t = gy_t / D_t, q_t = p_t y_t, and a_ti = e^(k_i) d^(|t-i|-1) for i != t,
     * e^(u + k_t) for i = t (d = e^-w):
     *
     * <pre>
     *   gv_i = sum_t a_ti p_t                 gk_i = v_i gv_i - sum_t a_ti q_t
     *   gu   = sum_t a_tt p_t (v_t - y_t)     gw   = -sum_t sum_{i != t} (|t-i|-1) a_ti p_t (v_i - y_t)
     * </pre>
     *
     * Every sum over t is a decayed scan from the left plus one from the right, as in the forward;
     * the distance-weighted ones follow M(i+1) = d (M(i) + L(i)) beside L(i+1) = d L(i) + p_i. Float64,
     * keys shifted by their maximum (which cancels in a p), threads over batch x channel blocks.
     */
    public static void fusedBackward(float[] w, float[] u, float[] k, float[] v, float[] y, float[] gy, float[] gk,
                                     float[] gv, double[] gw, double[] gu, int bsz, int height, int width, int ch,
                                     boolean columnMajor) {
        long n = (long) bsz * height * width * ch;
        if (w.length != ch || u.length != ch || k.length != n || v.length != n || y.length != n || gy.length != n
                || gk.length != n || gv.length != n || gw.length != ch || gu.length != ch) {
            throw new IllegalArgumentException("Bi-WKV backward: inconsistent sizes");
        }
        double[] gwPart = new double[bsz * ch];
        double[] guPart = new double[bsz * ch];
        ScalarBiWkv.backward(w, u, k, v, y, gy, gk, gv, gwPart, guPart, bsz, height, width, ch, columnMajor);
        for (int b = 0; b < bsz; b++) {
            for (int c = 0; c < ch; c++) {
                gw[c] += gwPart[b * ch + c];
                gu[c] += guPart[b * ch + c];
            }
        }
    }
}
