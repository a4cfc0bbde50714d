package org.restorerwkv.wkv;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

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

    /** Channels one fused-kernel task scans together (its inner, vectorizable loop). */
    private static final int CHANNEL_BLOCK = 8;

    private BiWkv() {}

    /** Sets how many threads the fused kernels use (default: available processors). */
    public static void setThreads(int n) {
        Parallel.setThreads(n);
    }

    public static int threads() {
        return Parallel.threads();
    }

    /**
     * Bi-WKV in scan order along axis 1, differentiable.
     *
     * @param w decay per channel, already divided by T, shape (C)
     * @param u self bonus per channel, already divided by T, shape (C)
     * @param k keys (B, T, C)
     * @param v values (B, T, C)
     * @return y (B, T, C), same dtype as v
     */
    public static NDArray differentiable(NDArray w, NDArray u, NDArray k, NDArray v) {
        NDManager m = k.getManager();
        Shape s = k.getShape();
        long bsz = s.get(0);
        long len = s.get(1);
        long ch = s.get(2);
        DataType out = v.getDataType();
        // float32 holds e^±87: enough when decay span + key spread stay well inside it
        boolean wide = exponentSpan(w, k, len) > FLOAT32_SPAN;
        NDArray kk = wide ? toFloat64(k) : k;
        NDArray vv = wide ? toFloat64(v) : v;
        NDArray ww = wide ? toFloat64(w.reshape(1, 1, ch)) : w.reshape(1, 1, ch); // (1,1,C)
        NDArray uu = wide ? toFloat64(u.reshape(1, 1, ch)) : u.reshape(1, 1, ch);
        DataType dt = kk.getDataType();
        // the max shift cancels between numerator and denominator: no gradient through it
        NDArray e = kk.sub(kk.max(new int[] {1}, true).stopGradient()).exp(); // (B,T,C), in (0,1]
        // x = (e v, e) on a new axis: numerator and denominator share every product
        NDArray x = NDArrays.stack(new NDList(e.mul(vv), e), 2); // (B,T,2,C)
        // chunks of L tokens: within a chunk one (L x L) matrix per channel holds every pair's weight
        // d^(|i-i'|-1) and the bonus exp(u) on its diagonal, so left, right and self terms are one
        // batched matmul; between chunks, per-chunk aggregates are carried by prefix/suffix sums
        // over the T/L chunks. Memory stays O(T C): no matrix grows with T.
        long l = Math.min(CHUNK, len);
        long n = (len + l - 1) / l;
        long padded = n * l;
        if (padded > len) { // zero tokens: x = 0 adds nothing; their outputs are cut off below
            x = NDArrays.concat(new NDList(x, m.zeros(new Shape(bsz, padded - len, 2, ch), dt)), 1);
        }
        long cols = bsz * n * 2;
        NDArray xr = x.reshape(bsz, n, l, 2, ch).transpose(4, 2, 0, 1, 3).reshape(ch, l, cols); // (C, L, B n 2)
        NDArray wc = ww.reshape(ch, 1, 1);
        NDArray idx = m.arange(0, (int) l, 1, dt); // position i in a chunk
        NDArray eye = m.eye((int) l).toType(dt, false);
        NDArray dist = idx.reshape(l, 1).sub(idx.reshape(1, l)).abs();
        NDArray pair = wc.neg().mul(dist.sub(1)).exp().mul(eye.neg().add(1)).add(uu.reshape(ch, 1, 1).exp().mul(eye));
        // chunk aggregates as seen from the next chunk on the left, sum_i' d^(L-1-i') x, and on the right, sum_i' d^i' x
        NDArray fromEnd = idx.neg().add(l - 1);
        NDArray aggLeft = chunkColumns(wc.neg().mul(fromEnd.reshape(1, 1, l)).exp().matMul(xr), ch, bsz, n); // (C, n, B 2)
        NDArray aggRight = chunkColumns(wc.neg().mul(idx.reshape(1, 1, l)).exp().matMul(xr), ch, bsz, n);
        // carries: CL_j = sum_{j'<j} D^(j-1-j') aggLeft_j', CR_j = sum_{j'>j} D^(j'-1-j) aggRight_j', D = d^L,
        // as D^-j' and D^j' weighted prefix/suffix sums; chunk positions tau are centred on the sequence, so
        // exp(±w L tau) spans e^±|decay|/2 instead of e^±|decay|
        NDArray wl = wc.mul(NativeArrays.scalarLike(wc, l)); // (C,1,1); a libtorch-owned scalar, see NativeArrays
        NDArray tau = m.arange(0, (int) n, 1, dt).sub((n - 1) / 2.0).reshape(1, n, 1);
        NDArray up = wl.mul(tau).exp(); // (C, n, 1)
        NDArray down = wl.mul(tau).neg().exp();
        NDArray ewl = wl.exp();
        NDArray carryLeft = exclusivePrefix(aggLeft.mul(up), n).mul(down.mul(ewl));
        NDArray carryRight = exclusiveSuffix(aggRight.mul(down), n).mul(up.mul(ewl));
        // into each token: d^i CL (from the left), d^(L-1-i) CR (from the right), as two more columns of
        // the chunk matrix and two more rows of its operand, so the matmul adds them in
        NDArray lhs = NDArrays.concat(new NDList(pair, wc.neg().mul(idx.reshape(1, l, 1)).exp(),
                wc.neg().mul(fromEnd.reshape(1, l, 1)).exp()), 2); // (C, L, L+2)
        NDArray rhs = NDArrays.concat(new NDList(xr, tokenColumns(carryLeft, ch, bsz, n),
                tokenColumns(carryRight, ch, bsz, n)), 1); // (C, L+2, B n 2)
        NDArray nd = lhs.matMul(rhs).reshape(ch, l, bsz, n, 2);
        NDArray y = nd.get(new NDIndex("..., 0")).div(nd.get(new NDIndex("..., 1"))) // (C, L, B, n)
                .transpose(2, 3, 1, 0).reshape(bsz, padded, ch);
        if (padded > len) {
            y = y.get(new NDIndex(":, :{}, :", len));
        }
        return castKeepingGradient(y, out);
    }

    /** Tokens per chunk of the differentiable form (measured: 64 beats 32 and 128 on the model's shapes). */
    private static final long CHUNK = 64;

    /** (C, 1, B n 2) per-chunk sums -> (C, n, B 2): chunks along axis 1 for the prefix/suffix sums. */
    private static NDArray chunkColumns(NDArray a, long ch, long bsz, long n) {
        return a.reshape(ch, bsz, n, 2).transpose(0, 2, 1, 3).reshape(ch, n, bsz * 2);
    }

    /** (C, n, B 2) -> (C, 1, B n 2), the column order of the chunked tokens. */
    private static NDArray tokenColumns(NDArray a, long ch, long bsz, long n) {
        return a.reshape(ch, n, bsz, 2).transpose(0, 2, 1, 3).reshape(ch, 1, bsz * n * 2);
    }

    /**
     * Beyond this exponent span (decay span plus key spread) the float64 path is taken. Not the
     * e^±87 of float32's range: the division's backward squares the denominator, which may be as
     * small as e^-span, and e^-60 squared underflows to 0 (NaN gradients); e^-30 squared does not.
     */
    private static final double FLOAT32_SPAN = 30;

    /** max|w|·T + max over batch and channel of (max k - min k): the widest exponent range. */
    private static double exponentSpan(NDArray w, NDArray k, long len) {
        double wmax = 0;
        for (double x : w.toType(DataType.FLOAT64, false).toDoubleArray()) { // any input type
            wmax = Math.max(wmax, Math.abs(x));
        }
        double kmax = 0;
        for (double x : k.max(new int[] {1}).sub(k.min(new int[] {1})).toType(DataType.FLOAT64, false).toDoubleArray()) {
            kmax = Math.max(kmax, x);
        }
        return wmax * len + kmax;
    }

    /** sum_{i<t} x_i along axis 1 of (B, T, ...), by shifting before the cumsum (no cancellation). */
    private static NDArray exclusivePrefix(NDArray x, long len) {
        if (len == 1) {
            return x.zerosLike();
        }
        Shape one = x.getShape().slice(0, 1).add(1).addAll(x.getShape().slice(2));
        NDArray zero = x.getManager().zeros(one, x.getDataType());
        NDArray shifted = NDArrays.concat(new NDList(zero, x.get(new NDIndex(":, :{}", len - 1))), 1);
        return shifted.cumSum(1);
    }

    /** sum_{i>t} x_i along axis 1. */
    private static NDArray exclusiveSuffix(NDArray x, long len) {
        return exclusivePrefix(x.flip(1), len).flip(1);
    }

    // DJL's toType() runs under torch::NoGradGuard, which would cut the graph; type promotion
    // (up) and an index_put into a fresh tensor (down) cast while autograd keeps recording.

    private static NDArray toFloat64(NDArray x) {
        if (x.getDataType() == DataType.FLOAT64) {
            return x;
        }
        return x.mul(x.getManager().ones(new Shape(1, 1, 1), DataType.FLOAT64));
    }

    private static NDArray castKeepingGradient(NDArray x, DataType type) {
        if (x.getDataType() == type) {
            return x;
        }
        NDArray out = x.getManager().zeros(x.getShape(), type);
        out.set(new NDIndex("..."), x);
        return out;
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
            Simd.fused(w, u, k, v, out, st, bsz, height, width, ch, columnMajor);
            return;
        }
        fusedScalar(w, u, k, v, out, st, bsz, height, width, ch, columnMajor);
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
            Simd.fused(w, u, k, v, out, st, bsz, height, width, ch, columnMajor);
        } else {
            fusedScalar(w, u, k, v, out, st, bsz, height, width, ch, columnMajor);
        }
    }

    /** The scalar fused kernel, used when the vector API is absent: threads over batch×channel blocks. */
    static void fusedScalar(float[] w, float[] u, float[] k, float[] v, float[] out, Strides st,
                            int bsz, int height, int width, int ch, boolean columnMajor) {
        int blocks = (ch + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK;
        Parallel.forEach(bsz * blocks, i -> fusedBlock(w, u, k, v, out, st, i / blocks,
                (i % blocks) * CHANNEL_BLOCK, height, width, ch, columnMajor));
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

    /** Per-thread scan buffers (exp(k - kmax) and the right sums), reused across calls. */
    private static final ThreadLocal<double[][]> SCAN = Scratch.doubleSlots(3);

    /**
     * e[s cb + c] = exp(k - max over the scan of k) in scan order, for the cb channels of the rows at
     * {@code base + row * stride} (rows row0 + token(s)): gathered first, then exponentiated in one
     * flat, branch-free loop, so that the recurrences need no exp at all.
     */
    private static void shiftedExp(float[] k, int base, int stride, long row0, int height, int width,
                                   boolean columnMajor, int cb, double[] e) {
        int len = height * width;
        double[] kmax = new double[cb];
        Arrays.fill(kmax, Double.NEGATIVE_INFINITY);
        for (int s = 0; s < len; s++) {
            int o = (int) (base + (row0 + token(s, height, width, columnMajor)) * stride);
            for (int c = 0; c < cb; c++) {
                e[s * cb + c] = k[o + c];
                kmax[c] = Math.max(kmax[c], k[o + c]);
            }
        }
        for (int s = 0; s < len; s++) {
            for (int c = 0; c < cb; c++) {
                e[s * cb + c] -= kmax[c];
            }
        }
        expInPlace(e, len * cb);
    }

    /** exp(sign * a[c0 + c]) for c in [0, n): a channel block's decay (sign -1) or bonus (+1). */
    private static double[] exps(float[] a, int c0, int n, int sign) {
        double[] r = new double[n];
        for (int c = 0; c < n; c++) {
            r[c] = Math.exp(sign * a[c0 + c]);
        }
        return r;
    }

    /** One batch item, channels [c0, c0+CHANNEL_BLOCK): a right-to-left pass, then left-to-right. */
    private static void fusedBlock(float[] w, float[] u, float[] k, float[] v, float[] out, Strides st,
                                   int b, int c0, int height, int width, int ch, boolean columnMajor) {
        int cb = Math.min(CHANNEL_BLOCK, ch - c0);
        int len = height * width;
        long row0 = (long) b * len;
        double[] decay = exps(w, c0, cb, -1); // exp(-w): one step of distance
        double[] bonus = exps(u, c0, cb, 1); // exp(u)
        double[] e = Scratch.doubles(SCAN, 0, len * cb);
        double[] rn = Scratch.doubles(SCAN, 1, len * cb);
        double[] rd = Scratch.doubles(SCAN, 2, len * cb);
        shiftedExp(k, st.kOff() + c0, st.k(), row0, height, width, columnMajor, cb, e);
        double[] an = new double[cb];
        double[] ad = new double[cb];
        for (int s = len - 1; s >= 0; s--) {
            long row = row0 + token(s, height, width, columnMajor);
            int vo = (int) (st.vOff() + row * st.v() + c0);
            int q = s * cb;
            for (int c = 0; c < cb; c++) {
                double ek = e[q + c];
                rn[q + c] = an[c];
                rd[q + c] = ad[c];
                an[c] = an[c] * decay[c] + ek * v[vo + c];
                ad[c] = ad[c] * decay[c] + ek;
            }
        }
        Arrays.fill(an, 0);
        Arrays.fill(ad, 0);
        for (int s = 0; s < len; s++) {
            long row = row0 + token(s, height, width, columnMajor);
            int vo = (int) (st.vOff() + row * st.v() + c0);
            int oo = (int) (row * st.out() + c0);
            int q = s * cb;
            for (int c = 0; c < cb; c++) {
                double ek = e[q + c];
                double vv = v[vo + c];
                double selfW = bonus[c] * ek;
                out[oo + c] = (float) ((an[c] + rn[q + c] + selfW * vv) / (ad[c] + rd[q + c] + selfW));
                an[c] = an[c] * decay[c] + ek * vv;
                ad[c] = ad[c] * decay[c] + ek;
            }
        }
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
        int blocks = (ch + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK;
        double[] gwPart = new double[bsz * ch];
        double[] guPart = new double[bsz * ch];
        Parallel.forEach(bsz * blocks, i -> backwardBlock(w, u, k, v, y, gy, gk, gv, gwPart, guPart, i / blocks,
                (i % blocks) * CHANNEL_BLOCK, height, width, ch, columnMajor));
        for (int b = 0; b < bsz; b++) {
            for (int c = 0; c < ch; c++) {
                gw[c] += gwPart[b * ch + c];
                gu[c] += guPart[b * ch + c];
            }
        }
    }

    /** Per-thread buffers of the backward: 4 per (token, channel) of a block. */
    private static final ThreadLocal<double[][]> BACKWARD = Scratch.doubleSlots(4);
    private static final ThreadLocal<int[][]> BACKWARD_OFFSETS = Scratch.intSlots(1);
    /** Per-thread scan-order copies of v, y, gy and the outputs gk, gv, for the scalar loops' column scans. */
    private static final ThreadLocal<float[][]> BACKWARD_GATHER = Scratch.floatSlots(5);
    /** Per-thread float64 scan-order v, y, gy, gk, gv of the vector loops' channels. */
    private static final ThreadLocal<double[][]> BACKWARD_WIDE = Scratch.doubleSlots(5);

    /**
     * {@link #fusedBackward} for batch item b, channels [c0, c0 + CHANNEL_BLOCK), in three scans
     * (the buffers, not the arithmetic, bound its time, so each scan keeps what the next needs and
     * no more): left to right the denominator's left sums; right to left D, p, q = p y, the right
     * sums of p and q (with all of dL/du and the right half of dL/dw); left to right the left sums,
     * which complete dL/dv, dL/dk and dL/dw.
     */
    private static void backwardBlock(float[] w, float[] u, float[] k, float[] v, float[] y, float[] gy, float[] gk,
                                      float[] gv, double[] gwPart, double[] guPart, int b, int c0, int height,
                                      int width, int ch, boolean columnMajor) {
        int cb = Math.min(CHANNEL_BLOCK, ch - c0);
        int len = height * width;
        long row0 = (long) b * len;
        double[] e = Scratch.doubles(BACKWARD, 0, len * cb); // exp(k - kmax), scan order
        // the denominator's left sums; then Rp + e^u p, the right part of dL/dv / e
        double[] ra = Scratch.doubles(BACKWARD, 1, len * cb);
        double[] rb = Scratch.doubles(BACKWARD, 2, len * cb); // Rq + e^u q, the right part of the key term
        double[] p = Scratch.doubles(BACKWARD, 3, len * cb); // dL/dy / D
        int[] off = Scratch.ints(BACKWARD_OFFSETS, 0, len); // element offset of scan step s (row * ch + c0)
        double[] decay = exps(w, c0, cb, -1);
        double[] bonus = exps(u, c0, cb, 1);
        for (int s = 0; s < len; s++) {
            off[s] = (int) ((row0 + token(s, height, width, columnMajor)) * ch + c0);
        }
        shiftedExp(k, c0, ch, row0, height, width, columnMajor, cb, e);
        double[] gwSum = new double[cb];
        double[] guSum = new double[cb];
        // whole vectors of channels on the vector API, the rest (if any) in the scalar loops below
        int whole = VectorSupport.AVAILABLE ? cb / Simd.lanes() * Simd.lanes() : 0;
        if (whole > 0) {
            // their v, y, gy gathered into float64 and scan order (also for column scans: the vector
            // loops then run on contiguous rows), and gk, gv scattered back from there; converted
            // here, not in the vector loops, where the JIT did not always compile the conversions
            double[] vd = Scratch.doubles(BACKWARD_WIDE, 0, len * cb);
            double[] yd = Scratch.doubles(BACKWARD_WIDE, 1, len * cb);
            double[] gyd = Scratch.doubles(BACKWARD_WIDE, 2, len * cb);
            for (int s = 0; s < len; s++) {
                int o = off[s];
                int q = s * cb;
                for (int c = 0; c < whole; c++) {
                    vd[q + c] = v[o + c];
                    yd[q + c] = y[o + c];
                    gyd[q + c] = gy[o + c];
                }
            }
            double[] gkd = Scratch.doubles(BACKWARD_WIDE, 3, len * cb);
            double[] gvd = Scratch.doubles(BACKWARD_WIDE, 4, len * cb);
            Simd.backwardScans(e, ra, rb, p, vd, yd, gyd, gkd, gvd, decay, bonus, gwSum, guSum, len, cb, whole);
            for (int s = 0; s < len; s++) {
                int o = off[s];
                int q = s * cb;
                for (int c = 0; c < whole; c++) {
                    gk[o + c] = (float) gkd[q + c];
                    gv[o + c] = (float) gvd[q + c];
                }
            }
        }
        float[] gkOut = gk;
        float[] gvOut = gv;
        if (columnMajor && whole < cb) {
            // a column scan strides a whole image row per step: gather the scalar channels' inputs
            // into scan order once (measured: the three scans over strided rows took twice as long)
            float[][] g = new float[5][];
            for (int i = 0; i < g.length; i++) {
                g[i] = Scratch.floats(BACKWARD_GATHER, i, len * cb);
            }
            for (int s = 0; s < len; s++) {
                int o = off[s];
                int q0 = s * cb;
                for (int c = whole; c < cb; c++) {
                    g[0][q0 + c] = v[o + c];
                    g[1][q0 + c] = y[o + c];
                    g[2][q0 + c] = gy[o + c];
                }
                off[s] = q0;
            }
            v = g[0];
            y = g[1];
            gy = g[2];
            gk = g[3];
            gv = g[4];
        }
        double[] a1 = new double[cb];
        double[] a2 = new double[cb];
        double[] a3 = new double[cb];
        double[] a4 = new double[cb];
        double[] a5 = new double[cb];
        for (int s = 0; s < len && whole < cb; s++) {
            for (int c = whole; c < cb; c++) {
                int q0 = s * cb + c;
                ra[q0] = a1[c];
                a1[c] = a1[c] * decay[c] + e[q0];
            }
        }
        // right to left: a5 the denominator's right sum; a1, a2 those of p, q; a3, a4 distance-weighted
        Arrays.fill(a1, 0);
        for (int s = len - 1; s >= 0 && whole < cb; s--) {
            for (int c = whole; c < cb; c++) {
                int q0 = s * cb + c;
                int o = off[s] + c;
                double d = decay[c];
                double ek = e[q0];
                double ps = gy[o] / (ra[q0] + a5[c] + bonus[c] * ek);
                double yv = y[o];
                double qs = ps * yv;
                double vv = v[o];
                a5[c] = a5[c] * d + ek;
                p[q0] = ps;
                ra[q0] = a1[c] + bonus[c] * ps;
                rb[q0] = a2[c] + bonus[c] * qs;
                guSum[c] += bonus[c] * ek * ps * (vv - yv);
                gwSum[c] -= ek * (vv * a3[c] - a4[c]);
                a3[c] = d * (a3[c] + a1[c]);
                a4[c] = d * (a4[c] + a2[c]);
                a1[c] = d * a1[c] + ps;
                a2[c] = d * a2[c] + qs;
            }
        }
        // left to right: a1, a2 the left sums of p, q; a3, a4 distance-weighted
        Arrays.fill(a1, 0);
        Arrays.fill(a2, 0);
        Arrays.fill(a3, 0);
        Arrays.fill(a4, 0);
        for (int s = 0; s < len && whole < cb; s++) {
            for (int c = whole; c < cb; c++) {
                int q0 = s * cb + c;
                int o = off[s] + c;
                double d = decay[c];
                double ek = e[q0];
                double vv = v[o];
                double ps = p[q0];
                double qs = ps * y[o];
                double gvi = ek * (a1[c] + ra[q0]);
                gv[o] = (float) gvi;
                gk[o] = (float) (vv * gvi - ek * (a2[c] + rb[q0]));
                gwSum[c] -= ek * (vv * a3[c] - a4[c]);
                a3[c] = d * (a3[c] + a1[c]);
                a4[c] = d * (a4[c] + a2[c]);
                a1[c] = d * a1[c] + ps;
                a2[c] = d * a2[c] + qs;
            }
        }
        for (int c = 0; c < cb; c++) {
            gwPart[b * ch + c0 + c] = gwSum[c];
            guPart[b * ch + c0 + c] = guSum[c];
        }
        if (columnMajor && whole < cb) { // scatter the scalar channels back to the row-major outputs
            for (int s = 0; s < len; s++) {
                int o = (int) ((row0 + token(s, height, width, true)) * ch + c0);
                for (int c = whole; c < cb; c++) {
                    gkOut[o + c] = gk[s * cb + c];
                    gvOut[o + c] = gv[s * cb + c];
                }
            }
        }
    }

    private static final double LOG2E = 1.4426950408889634;
    private static final double LN2_HI = 0.6931471803691238; // ln 2 split so n * LN2_HI is exact
    private static final double LN2_LO = 1.9082149292705877e-10;

    /**
     * x[i] = exp(x[i]) for x <= 0: 2^n * p(r) with r = x - n ln2 in [-ln2/2, ln2/2] and a degree-11
     * Taylor polynomial (relative error below 1e-14, the polynomial's remainder at |r| = ln2/2), without
     * Math.exp's calls and branches, so the loop runs at arithmetic speed. x below -708 counts as
     * -708 (exp 3.3e-308: a weight that vanishes beside any other term of a sum).
     */
    static void expInPlace(double[] x, int n) {
        int from = VectorSupport.AVAILABLE ? Simd.expInPlace(x, n) : 0;
        for (int i = from; i < n; i++) {
            double v = Math.max(x[i], -708.0);
            double m = Math.rint(v * LOG2E);
            double r = v - m * LN2_HI - m * LN2_LO;
            double p = 1 + r * (1 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720
                    + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (1.0 / 362880 + r * (1.0 / 3628800
                    + r * (1.0 / 39916800)))))))))));
            x[i] = p * Double.longBitsToDouble(((long) m + 1023) << 52);
        }
    }

    /** Row-major token index of scan step s. */
    private static int token(int s, int height, int width, boolean columnMajor) {
        if (!columnMajor) {
            return s;
        }
        int x = s / height;
        int y = s - x * height;
        return y * width + x;
    }
    /**
     * The fused kernel on the JDK's vector API: SIMD across channels, threads across chunks of the
     * scan. A chunked two-level scan, so that one thread's work is a run of whole token rows
     * (contiguous memory) rather than a strided channel column:
     * <ol>
     *   <li>per chunk (parallel): the chunk's key maximum and its left and right aggregates
     *       {@code Lagg = sum_i d^(s1-1-i) x_i}, {@code Ragg = sum_i d^(i-s0) x_i}, x = (e v, e);
     *   <li>per batch item (sequential over chunks, O(T/chunk)): the global key maximum, and the sums
     *       entering each chunk from the left, {@code CL(j+1) = d^n CL(j) + Lagg(j)}, and from the
     *       right, {@code CR(j-1) = d^n CR(j) + Ragg(j)}, rescaled to each chunk's own maximum;
     *   <li>per chunk (parallel): the right sums inside the chunk (backward, from CR), then the left
     *       sums (forward, from CL) and y.
     * </ol>
     * The sums run in float64 as the scalar kernel does. exp(k - chunk max) is computed in step 1
     * and, where {@link Kernel#stash} allows, kept in the output for step 3.
     * <p>
     * Loaded only when {@link VectorSupport#AVAILABLE}, so the rest of BiWkv never touches vector classes.
     */
    static final class Simd {

        /** A static final species: the JIT turns vector operations into instructions only for constants. */
        private static final VectorSpecies<Double> SP = DoubleVector.SPECIES_PREFERRED;
        /** Floats of one double vector, for storing y. */
        private static final VectorSpecies<Float> FS = VectorSpecies.of(float.class, VectorShape.forBitSize(SP.vectorBitSize() / 2));
        /** Float lanes of a whole vector register: the within-chunk sums of the narrow path. */
        private static final VectorSpecies<Float> FP = FloatVector.SPECIES_PREFERRED;
        /**
         * Bounds under which a chunk's sums fit in float (e^88) with room to spare: |v| (a chunk sums
         * at most 1024 terms of at most e^40 |v|), and the carries entering a chunk at its own scale.
         */
        private static final float NARROW_V_LIMIT = 1e15f;
        private static final double NARROW_CARRY_LIMIT = 1e30;
        /**
         * Per-thread buffers of the float-lane path: the right sums of one vector of channels down a
         * chunk (num, den per row), a chunk's aggregates or carries as floats, and its key maxima.
         */
        private static final ThreadLocal<float[][]> NARROW = Scratch.floatSlots(3);

        private Simd() {}

        /** Doubles per vector. */
        static int lanes() {
            return SP.length();
        }

        /**
         * The three scans of {@link BiWkv#backwardBlock} for its first {@code whole} channels (a
         * multiple of {@link #lanes}), one vector of channels at a time with its running sums in
         * registers: the scalar loops' operations in the same order (no fused multiply-adds), so the
         * same float64 results. v, y, gy come in and gk, gv go out in float64 and scan order (index
         * s * cb + c, as e, ra, rb, p); adds those channels' dL/dw and dL/du terms into gwSum, guSum.
         */
        static void backwardScans(double[] e, double[] ra, double[] rb, double[] p, double[] v, double[] y,
                                  double[] gy, double[] gk, double[] gv, double[] decay, double[] bonus,
                                  double[] gwSum, double[] guSum, int len, int cb, int whole) {
            int lanes = SP.length();
            DoubleVector zero = DoubleVector.zero(SP);
            for (int g = 0; g < whole; g += lanes) {
                DoubleVector d = DoubleVector.fromArray(SP, decay, g);
                DoubleVector bo = DoubleVector.fromArray(SP, bonus, g);
                // left to right: the denominator's left sums
                DoubleVector a1 = zero;
                for (int s = 0; s < len; s++) {
                    int q = s * cb + g;
                    a1.intoArray(ra, q);
                    a1 = a1.mul(d).add(DoubleVector.fromArray(SP, e, q));
                }
                // right to left: a5 the denominator's right sum; a1, a2 those of p, q; a3, a4 distance-weighted
                a1 = zero;
                DoubleVector a2 = zero;
                DoubleVector a3 = zero;
                DoubleVector a4 = zero;
                DoubleVector a5 = zero;
                DoubleVector gw = zero;
                DoubleVector gu = zero;
                for (int s = len - 1; s >= 0; s--) {
                    int q = s * cb + g;
                    DoubleVector ek = DoubleVector.fromArray(SP, e, q);
                    DoubleVector ps = DoubleVector.fromArray(SP, gy, q)
                            .div(DoubleVector.fromArray(SP, ra, q).add(a5).add(bo.mul(ek)));
                    DoubleVector yv = DoubleVector.fromArray(SP, y, q);
                    DoubleVector qs = ps.mul(yv);
                    DoubleVector vv = DoubleVector.fromArray(SP, v, q);
                    a5 = a5.mul(d).add(ek);
                    ps.intoArray(p, q);
                    a1.add(bo.mul(ps)).intoArray(ra, q);
                    a2.add(bo.mul(qs)).intoArray(rb, q);
                    gu = gu.add(bo.mul(ek).mul(ps).mul(vv.sub(yv)));
                    gw = gw.sub(ek.mul(vv.mul(a3).sub(a4)));
                    a3 = d.mul(a3.add(a1));
                    a4 = d.mul(a4.add(a2));
                    a1 = d.mul(a1).add(ps);
                    a2 = d.mul(a2).add(qs);
                }
                // left to right: a1, a2 the left sums of p, q; a3, a4 distance-weighted
                a1 = zero;
                a2 = zero;
                a3 = zero;
                a4 = zero;
                for (int s = 0; s < len; s++) {
                    int q = s * cb + g;
                    DoubleVector ek = DoubleVector.fromArray(SP, e, q);
                    DoubleVector vv = DoubleVector.fromArray(SP, v, q);
                    DoubleVector ps = DoubleVector.fromArray(SP, p, q);
                    DoubleVector qs = ps.mul(DoubleVector.fromArray(SP, y, q));
                    DoubleVector gvi = ek.mul(a1.add(DoubleVector.fromArray(SP, ra, q)));
                    gvi.intoArray(gv, q);
                    vv.mul(gvi).sub(ek.mul(a2.add(DoubleVector.fromArray(SP, rb, q)))).intoArray(gk, q);
                    gw = gw.sub(ek.mul(vv.mul(a3).sub(a4)));
                    a3 = d.mul(a3.add(a1));
                    a4 = d.mul(a4.add(a2));
                    a1 = d.mul(a1).add(ps);
                    a2 = d.mul(a2).add(qs);
                }
                gw.add(DoubleVector.fromArray(SP, gwSum, g)).intoArray(gwSum, g);
                gu.add(DoubleVector.fromArray(SP, guSum, g)).intoArray(guSum, g);
            }
        }

        /** 1.5 * 2^52: adding it rounds a double below 2^51 in magnitude to an integer, half to even. */
        private static final double ROUNDER = 0x1.8p52;
        private static final long ROUNDER_BITS = Double.doubleToRawLongBits(ROUNDER);

        /**
         * {@link BiWkv#expInPlace} on whole vectors of x[0, n): the same reduction and polynomial,
         * operation for operation (rint as the add-and-subtract of 1.5 * 2^52, exact for |m| <= 1022;
         * 2^m from the integer left in the rounded sum's low bits), so the same results.
         *
         * @return how many leading elements it did (the rest are the scalar loop's)
         */
        static int expInPlace(double[] x, int n) {
            int lanes = SP.length();
            int whole = n / lanes * lanes;
            for (int i = 0; i < whole; i += lanes) {
                DoubleVector v = DoubleVector.fromArray(SP, x, i).max(-708.0);
                DoubleVector biased = v.mul(LOG2E).add(ROUNDER);
                DoubleVector m = biased.sub(ROUNDER);
                DoubleVector r = v.sub(m.mul(LN2_HI)).sub(m.mul(LN2_LO));
                DoubleVector p = r.mul(1.0 / 39916800).add(1.0 / 3628800);
                p = r.mul(p).add(1.0 / 362880);
                p = r.mul(p).add(1.0 / 40320);
                p = r.mul(p).add(1.0 / 5040);
                p = r.mul(p).add(1.0 / 720);
                p = r.mul(p).add(1.0 / 120);
                p = r.mul(p).add(1.0 / 24);
                p = r.mul(p).add(1.0 / 6);
                p = r.mul(p).add(1.0 / 2);
                p = r.mul(p).add(1);
                p = r.mul(p).add(1);
                DoubleVector scale = biased.reinterpretAsLongs().sub(ROUNDER_BITS - 1023)
                        .lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
                p.mul(scale).intoArray(x, i);
            }
            return whole;
        }

        /** Per-thread chunk buffers: exp(k - chunk max), values, right sums, one value per channel. */
        private static final ThreadLocal<double[][]> CHUNK = Scratch.doubleSlots(4);
        /** Per-thread row offsets of a chunk: k, v, y per row. */
        private static final ThreadLocal<int[][]> OFFSETS = Scratch.intSlots(1);
        /** Per-thread per-chunk aggregates and carries of one call ({@link Kernel#agg}). */
        private static final ThreadLocal<double[][]> AGGREGATES = Scratch.doubleSlots(1);

        /** Scan steps per chunk: about 128 KiB of float64 per buffer, so the five stay in L2. */
        private static int chunkLength(int paddedChannels) {
            return Math.max(16, Math.min(1024, 16384 / paddedChannels));
        }

        static void fused(float[] w, float[] u, float[] k, float[] v, float[] out, Strides st,
                          int bsz, int height, int width, int ch, boolean columnMajor) {
            Kernel kn = new Kernel(w, u, k, v, out, st, bsz, height, width, ch, columnMajor);
            Parallel.forEach(bsz * kn.chunks, kn.narrow ? kn::aggregateNarrow : kn::aggregate);
            Parallel.forEach(bsz, kn::carries);
            // in reverse: the chunks step 1 touched last are still in the last-level cache
            int tasks = bsz * kn.chunks;
            if (kn.narrow) {
                Parallel.forEach(tasks, i -> kn.emitNarrow(tasks - 1 - i));
            } else {
                Parallel.forEach(tasks, i -> kn.emit(tasks - 1 - i));
            }
        }

        private static final class Kernel {
            final float[] k;
            final float[] v;
            final float[] out;
            final Strides st;
            final int height;
            final int width;
            final int len;
            final int ch;
            final int cp; // channels padded to whole vectors (pads hold k = v = 0 and are never written out)
            final boolean columnMajor;
            final int chunkLen;
            final int chunks;
            final double[] rate; // w
            final double[] decay; // d = exp(-w), one step of distance
            final double[] bonus; // exp(u)
            final double[] chunkDecay; // d^chunkLen
            /** Per (b, chunk): max, Lagg num, Lagg den, Ragg num, Ragg den; then CL num/den, CR num/den. */
            final double[] agg;
            /**
             * Whether step 1 leaves exp(k - chunk max) in {@code out} (as float) for step 3 instead of
             * step 3 computing it again. A float underflows below e^-87, which only drops tokens
             * whose weight is under e^-87 of their chunk maximum's; once decay over a chunk can
             * shrink that maximum's weight by more than e^40, or when y overwrites v (the model's
             * in-place call), the exp is recomputed in float64.
             */
            final boolean stash;
            /**
             * Whether the within-chunk scans run in float lanes (twice the lanes of float64 and no
             * widening: the kernel is bound by arithmetic, measured per element the same at 4096
             * tokens, in cache, as at 65536). Taken with the stash, whose bound on decay over a chunk
             * (e^40) and on keys (exp(k - chunk max) <= 1) keeps every term of a chunk inside float's
             * range, when |u| <= 40 and the channels fill whole float vectors; per chunk, a |v| over
             * {@link #NARROW_V_LIMIT} or carries over {@link #NARROW_CARRY_LIMIT} send that chunk to
             * the float64 code. Carries between chunks stay float64. Every denominator keeps at least
             * the chunk maximum's own term, >= e^-80, so float never divides by an underflowed zero.
             */
            final boolean narrow;
            /** Per (b, chunk): step 1 ran in float64 (the chunk's |v| was over the narrow bound). */
            final boolean[] wide;
            /**
             * d = exp(-w) as float hi + lo: a recurrence x <- d x + t over a chunk of s steps with d
             * rounded to float would weight the farthest term by (1 + delta)^s, up to 1 + 6e-5 at
             * 1024 steps, a bias every row of the chunk shares; with hi + lo, d is exact to ~1e-14
             * and only the per-step rounding (random, ~sqrt(s) * 6e-8) remains.
             */
            final float[] decayHi;
            final float[] decayLo;
            final float[] bonusF;

            Kernel(float[] w, float[] u, float[] k, float[] v, float[] out, Strides st,
                   int bsz, int height, int width, int ch, boolean columnMajor) {
                this.k = k;
                this.v = v;
                this.out = out;
                this.st = st;
                this.height = height;
                this.width = width;
                this.len = height * width;
                this.ch = ch;
                int lanes = SP.length();
                this.cp = (ch + lanes - 1) / lanes * lanes;
                this.columnMajor = columnMajor;
                this.chunkLen = chunkLength(cp);
                this.chunks = (len + chunkLen - 1) / chunkLen;
                rate = new double[cp];
                decay = new double[cp];
                bonus = new double[cp];
                chunkDecay = new double[cp];
                for (int c = 0; c < ch; c++) {
                    rate[c] = w[c];
                    decay[c] = Math.exp(-rate[c]);
                    bonus[c] = Math.exp(u[c]);
                    chunkDecay[c] = Math.exp(-rate[c] * chunkLen);
                }
                agg = aggregates(bsz * chunks * 9 * cp);
                double wmax = 0;
                for (int c = 0; c < ch; c++) {
                    wmax = Math.max(wmax, Math.abs(rate[c]));
                }
                stash = wmax * Math.min(chunkLen, len) <= 40 && out != v; // in place (out = v), v is still needed in step 3
                double umax = 0;
                for (int c = 0; c < ch; c++) {
                    umax = Math.max(umax, Math.abs(u[c]));
                }
                narrow = stash && umax <= 40 && ch % FP.length() == 0;
                wide = new boolean[narrow ? bsz * chunks : 0];
                decayHi = new float[ch];
                decayLo = new float[ch];
                bonusF = new float[ch];
                for (int c = 0; c < ch; c++) {
                    decayHi[c] = (float) decay[c];
                    decayLo[c] = (float) (decay[c] - decayHi[c]);
                    bonusF[c] = (float) bonus[c];
                }
            }

            private int base(int b, int j) {
                return (b * chunks + j) * 9 * cp;
            }

            /** The chunk's row offsets only ({@link #load} without widening v); returns its length. */
            private int rows(int b, int j, int[] offs) {
                int s0 = j * chunkLen;
                int n = Math.min(len, s0 + chunkLen) - s0;
                long row0 = (long) b * len;
                for (int i = 0; i < n; i++) {
                    long row = row0 + token(s0 + i, height, width, columnMajor);
                    offs[3 * i] = (int) (st.kOff() + row * st.k());
                    offs[3 * i + 1] = (int) (st.vOff() + row * st.v());
                    offs[3 * i + 2] = (int) (row * st.out());
                }
                return n;
            }

            /**
             * Offsets of the chunk's k, v and y rows (scan order) into {@code offs} (3 per row), and
             * its v rows widened to float64 into {@code vd}; returns the chunk's length. Whole float
             * vectors are widened in registers; only a tail of {@code ch % lanes} channels goes element
             * by element (a masked load is slow in Java 17). Pad channels hold v = 0.
             */
            private int load(int b, int j, int[] offs, double[] vd) {
                int n = rows(b, j, offs);
                widen(v, offs, 1, n, vd);
                return n;
            }

            /**
             * Row s of {@code src} at offset {@code offs[3s + slot]} (k, v or y), widened to float64 into
             * row s of {@code dst}; pad channels get 0.
             */
            private void widen(float[] src, int[] offs, int slot, int n, double[] dst) {
                int lanes = SP.length();
                int whole = ch / lanes * lanes;
                for (int s = 0; s < n; s++) {
                    int so = offs[3 * s + slot];
                    int q = s * cp;
                    for (int c = 0; c < whole; c += lanes) {
                        FloatVector.fromArray(FS, src, so + c).convertShape(VectorOperators.F2D, SP, 0).reinterpretAsDoubles()
                                .intoArray(dst, q + c);
                    }
                    for (int c = whole; c < ch; c++) {
                        dst[q + c] = src[so + c];
                    }
                    for (int c = ch; c < cp; c++) {
                        dst[q + c] = 0;
                    }
                }
            }

            /** Per-channel maximum of k over the chunk's rows into {@code mx} (pads: 0). */
            private void maxK(int[] offs, int n, double[] mx) {
                int lanes = SP.length();
                int whole = ch / lanes * lanes;
                for (int g = 0; g < whole; g += lanes) {
                    DoubleVector m = DoubleVector.broadcast(SP, Double.NEGATIVE_INFINITY);
                    for (int s = 0; s < n; s++) {
                        m = m.max(FloatVector.fromArray(FS, k, offs[3 * s] + g).convertShape(VectorOperators.F2D, SP, 0).reinterpretAsDoubles());
                    }
                    m.intoArray(mx, g);
                }
                for (int c = whole; c < cp; c++) {
                    double m = c < ch ? Double.NEGATIVE_INFINITY : 0;
                    for (int s = 0; c < ch && s < n; s++) {
                        m = Math.max(m, k[offs[3 * s] + c]);
                    }
                    mx[c] = m;
                }
            }

            /**
             * {@code kd[s][c] = exp(k[s][c] - mx[c])} over the chunk's rows, read straight from k: a
             * loop of its own, so the running sums of the scans are not spilled around the exp stub's
             * calls. Pad channels get exp(0 - mx) with v = 0, so they add nothing that is written.
             */
            private void expK(int[] offs, int n, double[] mx, double[] kd) {
                int lanes = SP.length();
                int whole = ch / lanes * lanes;
                for (int s = 0; s < n; s++) {
                    int ko = offs[3 * s];
                    int q = s * cp;
                    for (int g = 0; g < whole; g += lanes) {
                        VectorMath.exp(FloatVector.fromArray(FS, k, ko + g).convertShape(VectorOperators.F2D, SP, 0)
                                .reinterpretAsDoubles().sub(DoubleVector.fromArray(SP, mx, g))).intoArray(kd, q + g);
                    }
                    for (int c = whole; c < cp; c++) {
                        kd[q + c] = Math.exp((c < ch ? k[ko + c] : 0) - mx[c]);
                    }
                }
            }

            private int[] offsets() {
                return Scratch.ints(OFFSETS, 0, 3 * chunkLen);
            }

            /**
             * This thread's chunk buffer: 0 exp(k), 1 values (chunkLen x cp each), 2 right sums (twice
             * that), 3 one value per channel.
             */
            private double[] buffer(int slot) {
                return Scratch.doubles(CHUNK, slot, slot == 3 ? cp : (slot == 2 ? 2 : 1) * chunkLen * cp);
            }

            /**
             * {@link #expK} for the stash: exp(k - chunk max) in float lanes (it is stored as float
             * anyway, and a float exp costs half a double one), written to the rows of {@code out}
             * that y later overwrites and, widened, to {@code kd}.
             */
            private void expKStash(int[] offs, int n, double[] mx, double[] kd) {
                int lanes = SP.length();
                int whole = ch / lanes * lanes;
                float[] mxf = narrowBuffer(2, whole);
                for (int c = 0; c < whole; c++) {
                    mxf[c] = (float) mx[c]; // a maximum of floats: exact
                }
                for (int s = 0; s < n; s++) {
                    int ko = offs[3 * s];
                    int oo = offs[3 * s + 2];
                    int q = s * cp;
                    for (int g = 0; g < whole; g += lanes) {
                        FloatVector e = VectorMath.exp(FloatVector.fromArray(FS, k, ko + g).sub(FloatVector.fromArray(FS, mxf, g)));
                        e.intoArray(out, oo + g);
                        e.convertShape(VectorOperators.F2D, SP, 0).reinterpretAsDoubles().intoArray(kd, q + g);
                    }
                    for (int c = whole; c < cp; c++) {
                        float e = (float) Math.exp((c < ch ? k[ko + c] : 0) - mx[c]);
                        if (c < ch) {
                            out[oo + c] = e;
                        }
                        kd[q + c] = e;
                    }
                }
            }

            /**
             * Step 1 for task i = (b, chunk): after the maximum, one pass accumulates both aggregates,
             * the right one as {@code sum p x} with the running power {@code p = d^(s-s0)}. Each
             * vector of channels runs down the chunk's rows with its running sums in registers.
             */
            void aggregate(int i) {
                int b = i / chunks;
                int j = i % chunks;
                double[] kd = buffer(0);
                double[] vd = buffer(1);
                int[] offs = offsets();
                int lanes = SP.length();
                // whole vectors of channels: v is read straight from its floats below, only offsets here
                boolean direct = ch % lanes == 0;
                int n = direct ? rows(b, j, offs) : load(b, j, offs, vd);
                int o = base(b, j);
                double[] mxs = buffer(3);
                maxK(offs, n, mxs);
                if (stash) {
                    expKStash(offs, n, mxs, kd);
                } else {
                    expK(offs, n, mxs, kd);
                }
                for (int g = 0; g < cp; g += lanes) {
                    DoubleVector mx = DoubleVector.fromArray(SP, mxs, g);
                    DoubleVector d = DoubleVector.fromArray(SP, decay, g);
                    DoubleVector ln = DoubleVector.zero(SP);
                    DoubleVector ld = DoubleVector.zero(SP);
                    DoubleVector rn = DoubleVector.zero(SP);
                    DoubleVector rd = DoubleVector.zero(SP);
                    DoubleVector pw = DoubleVector.broadcast(SP, 1.0);
                    for (int s = 0; s < n; s++) {
                        int q = s * cp + g;
                        DoubleVector e = DoubleVector.fromArray(SP, kd, q);
                        DoubleVector vv = direct
                                ? FloatVector.fromArray(FS, v, offs[3 * s + 1] + g).convertShape(VectorOperators.F2D, SP, 0).reinterpretAsDoubles()
                                : DoubleVector.fromArray(SP, vd, q);
                        DoubleVector ev = e.mul(vv);
                        ln = ln.fma(d, ev);
                        ld = ld.fma(d, e);
                        rn = pw.fma(ev, rn);
                        rd = pw.fma(e, rd);
                        pw = pw.mul(d);
                    }
                    mx.intoArray(agg, o + g);
                    ln.intoArray(agg, o + cp + g);
                    ld.intoArray(agg, o + 2 * cp + g);
                    rn.intoArray(agg, o + 3 * cp + g);
                    rd.intoArray(agg, o + 4 * cp + g);
                }
            }

            /** Step 2 for batch item b: global maximum, rescaled aggregates, carries into each chunk. */
            void carries(int b) {
                for (int c = 0; c < ch; c++) {
                    double mx = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < chunks; j++) {
                        mx = Math.max(mx, agg[base(b, j) + c]);
                    }
                    double cln = 0;
                    double cld = 0;
                    for (int j = 0; j < chunks; j++) {
                        int o = base(b, j);
                        double scale = Math.exp(agg[o + c] - mx);
                        agg[o + 5 * cp + c] = cln;
                        agg[o + 6 * cp + c] = cld;
                        cln = chunkDecay[c] * cln + scale * agg[o + cp + c]; // every chunk but the last is full
                        cld = chunkDecay[c] * cld + scale * agg[o + 2 * cp + c];
                    }
                    double crn = 0;
                    double crd = 0;
                    for (int j = chunks - 1; j >= 0; j--) {
                        int o = base(b, j);
                        double scale = Math.exp(agg[o + c] - mx);
                        agg[o + 7 * cp + c] = crn;
                        agg[o + 8 * cp + c] = crd;
                        int n = Math.min(len, (j + 1) * chunkLen) - j * chunkLen;
                        double dn = n == chunkLen ? chunkDecay[c] : Math.exp(-rate[c] * n);
                        crn = dn * crn + scale * agg[o + 3 * cp + c];
                        crd = dn * crd + scale * agg[o + 4 * cp + c];
                    }
                    // step 3 works at each chunk's own scale, exp(k - chunk max)
                    for (int j = 0; j < chunks; j++) {
                        int o = base(b, j);
                        double up = Math.exp(mx - agg[o + c]);
                        for (int a = 5; a <= 8; a++) {
                            agg[o + a * cp + c] *= up;
                        }
                    }
                }
            }

            /**
             * Step 3 for task i = (b, chunk): per vector of channels, a backward pass keeps the sums
             * entering each row from the right (and exp(k - max) in place of k), then a forward pass
             * adds the sums from the left and the row's own term and writes y.
             */
            void emit(int i) {
                int b = i / chunks;
                int j = i % chunks;
                double[] kd = buffer(0);
                double[] vd = buffer(1);
                double[] rs = buffer(2); // right sums per row: num then den
                int[] offs = offsets();
                int n = load(b, j, offs, vd);
                int o = base(b, j);
                int lanes = SP.length();
                if (stash) {
                    widen(out, offs, 2, n, kd); // what expKStash left there
                } else {
                    System.arraycopy(agg, o, buffer(3), 0, cp); // the chunk's maximum
                    expK(offs, n, buffer(3), kd);
                }
                for (int g = 0; g < cp; g += lanes) {
                    DoubleVector d = DoubleVector.fromArray(SP, decay, g);
                    DoubleVector an = DoubleVector.fromArray(SP, agg, o + 7 * cp + g); // CR: sums entering from the right
                    DoubleVector ad = DoubleVector.fromArray(SP, agg, o + 8 * cp + g);
                    for (int s = n - 1; s >= 0; s--) {
                        int q = s * cp + g;
                        DoubleVector e = DoubleVector.fromArray(SP, kd, q);
                        an.intoArray(rs, 2 * q - g);
                        ad.intoArray(rs, 2 * q - g + cp);
                        an = an.fma(d, e.mul(DoubleVector.fromArray(SP, vd, q)));
                        ad = ad.fma(d, e);
                    }
                    DoubleVector bonusV = DoubleVector.fromArray(SP, bonus, g);
                    an = DoubleVector.fromArray(SP, agg, o + 5 * cp + g); // CL: sums entering from the left
                    ad = DoubleVector.fromArray(SP, agg, o + 6 * cp + g);
                    boolean whole = g + lanes <= ch;
                    for (int s = 0; s < n; s++) {
                        int q = s * cp + g;
                        int oo = offs[3 * s + 2];
                        DoubleVector e = DoubleVector.fromArray(SP, kd, q);
                        DoubleVector ev = e.mul(DoubleVector.fromArray(SP, vd, q));
                        DoubleVector num = an.add(DoubleVector.fromArray(SP, rs, 2 * q - g)).add(bonusV.mul(ev));
                        DoubleVector den = ad.add(DoubleVector.fromArray(SP, rs, 2 * q - g + cp)).add(bonusV.mul(e));
                        FloatVector y = (FloatVector) num.div(den).convertShape(VectorOperators.D2F, FS, 0);
                        if (whole) {
                            y.intoArray(out, oo + g);
                        } else {
                            for (int c = g; c < ch; c++) {
                                out[oo + c] = y.lane(c - g);
                            }
                        }
                        an = an.fma(d, ev);
                        ad = ad.fma(d, e);
                    }
                }
            }
            /**
             * Step 1 in float lanes: per vector of channels, the chunk maximum of k, exp(k - max) into
             * the rows of {@code out} (its own loop, so the sums below stay in registers), then both
             * aggregates in one pass as in {@link #aggregate}. A chunk whose |v| exceeds the narrow
             * bound is done again by {@link #aggregate} and marked wide.
             */
            void aggregateNarrow(int i) {
                int b = i / chunks;
                int j = i % chunks;
                int[] offs = offsets();
                int n = rows(b, j, offs);
                int o = base(b, j);
                int lanes = FP.length();
                float[] sums = narrowBuffer(1, 5 * lanes);
                for (int g = 0; g < ch; g += lanes) {
                    FloatVector mx = FloatVector.broadcast(FP, Float.NEGATIVE_INFINITY);
                    for (int s = 0; s < n; s++) {
                        mx = mx.max(FloatVector.fromArray(FP, k, offs[3 * s] + g));
                    }
                    for (int s = 0; s < n; s++) {
                        VectorMath.exp(FloatVector.fromArray(FP, k, offs[3 * s] + g).sub(mx)).intoArray(out, offs[3 * s + 2] + g);
                    }
                    FloatVector dh = FloatVector.fromArray(FP, decayHi, g);
                    FloatVector dl = FloatVector.fromArray(FP, decayLo, g);
                    FloatVector ln = FloatVector.zero(FP);
                    FloatVector ld = FloatVector.zero(FP);
                    FloatVector rn = FloatVector.zero(FP);
                    FloatVector rd = FloatVector.zero(FP);
                    FloatVector pw = FloatVector.broadcast(FP, 1f);
                    FloatVector vmax = FloatVector.zero(FP);
                    for (int s = 0; s < n; s++) {
                        FloatVector e = FloatVector.fromArray(FP, out, offs[3 * s + 2] + g);
                        FloatVector vv = FloatVector.fromArray(FP, v, offs[3 * s + 1] + g);
                        FloatVector ev = e.mul(vv);
                        ln = ln.fma(dh, ln.fma(dl, ev)); // d ln + ev
                        ld = ld.fma(dh, ld.fma(dl, e));
                        rn = pw.fma(ev, rn);
                        rd = pw.fma(e, rd);
                        pw = pw.fma(dh, pw.mul(dl)); // pw d
                        vmax = vmax.max(vv.abs());
                    }
                    // NaN fails the comparison too: such a chunk goes to the float64 code
                    if (!(vmax.reduceLanes(VectorOperators.MAX) <= NARROW_V_LIMIT)) {
                        wide[i] = true;
                        aggregate(i);
                        return;
                    }
                    mx.intoArray(sums, 0);
                    ln.intoArray(sums, lanes);
                    ld.intoArray(sums, 2 * lanes);
                    rn.intoArray(sums, 3 * lanes);
                    rd.intoArray(sums, 4 * lanes);
                    for (int a = 0; a < 5; a++) {
                        for (int c = 0; c < lanes; c++) {
                            agg[o + a * cp + g + c] = sums[a * lanes + c];
                        }
                    }
                }
            }

            /**
             * This thread's aggregate array, zeroed, at least {@code size} long: a fresh one per call
             * was megabytes (9 x 769 chunks x 48 channels of float64 per call at 512 x 512) that the
             * JVM heap grew to hold between collections.
             */
            private static double[] aggregates(int size) {
                double[] a = Scratch.doubles(AGGREGATES, 0, size);
                Arrays.fill(a, 0, size, 0);
                return a;
            }

            /** This thread's float-lane buffer {@code slot}, at least {@code size} long. */
            private float[] narrowBuffer(int slot, int size) {
                return Scratch.floats(NARROW, slot, size);
            }

            /**
             * Step 3 in float lanes, as {@link #emit}: per vector of channels a backward pass keeps
             * the right sums entering each row, a forward pass adds the left sums and the row's own
             * term and writes y over the exp(k - max) that step 1 left in {@code out}.
             */
            void emitNarrow(int i) {
                int o = base(i / chunks, i % chunks);
                float[] carry = narrowBuffer(1, 4 * ch); // CL num, CL den, CR num, CR den
                for (int a = 0; a < 4; a++) {
                    for (int c = 0; c < ch; c++) {
                        double x = agg[o + (5 + a) * cp + c];
                        if (wide[i] || !(Math.abs(x) <= NARROW_CARRY_LIMIT)) {
                            emit(i);
                            return;
                        }
                        carry[a * ch + c] = (float) x;
                    }
                }
                int[] offs = offsets();
                int n = rows(i / chunks, i % chunks, offs);
                int lanes = FP.length();
                float[] rs = narrowBuffer(0, 2 * lanes * chunkLen);
                for (int g = 0; g < ch; g += lanes) {
                    FloatVector dh = FloatVector.fromArray(FP, decayHi, g);
                    FloatVector dl = FloatVector.fromArray(FP, decayLo, g);
                    FloatVector an = FloatVector.fromArray(FP, carry, 2 * ch + g);
                    FloatVector ad = FloatVector.fromArray(FP, carry, 3 * ch + g);
                    for (int s = n - 1; s >= 0; s--) {
                        FloatVector e = FloatVector.fromArray(FP, out, offs[3 * s + 2] + g);
                        FloatVector vv = FloatVector.fromArray(FP, v, offs[3 * s + 1] + g);
                        an.intoArray(rs, 2 * lanes * s);
                        ad.intoArray(rs, 2 * lanes * s + lanes);
                        an = an.fma(dh, an.fma(dl, e.mul(vv)));
                        ad = ad.fma(dh, ad.fma(dl, e));
                    }
                    FloatVector bonusV = FloatVector.fromArray(FP, bonusF, g);
                    an = FloatVector.fromArray(FP, carry, g);
                    ad = FloatVector.fromArray(FP, carry, ch + g);
                    for (int s = 0; s < n; s++) {
                        int oo = offs[3 * s + 2] + g;
                        FloatVector e = FloatVector.fromArray(FP, out, oo);
                        FloatVector ev = e.mul(FloatVector.fromArray(FP, v, offs[3 * s + 1] + g));
                        FloatVector num = an.add(FloatVector.fromArray(FP, rs, 2 * lanes * s)).add(bonusV.mul(ev));
                        FloatVector den = ad.add(FloatVector.fromArray(FP, rs, 2 * lanes * s + lanes)).add(bonusV.mul(e));
                        num.div(den).intoArray(out, oo);
                        an = an.fma(dh, an.fma(dl, ev));
                        ad = ad.fma(dh, ad.fma(dl, e));
                    }
                }
            }
        }
    }
}
