package org.restorerwkv.wkv;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The bias-free linear layers of the RWKV block on channels-last tokens (rows of K floats), for
 * inference: {@code out[r, :] = W x[r, :]} with a torch Linear weight W of shape (N, K).
 *
 * <p>Why not libtorch: the block's matrices are narrow (K, N between 16 and 4C), where the copies
 * into and out of native tensors cost as much as the product. Measured on (65536, K) tokens, 2
 * threads, Java arrays in and out: K=16 N=48 0.98 vs 3.88 ms, K=64 N=16 1.24 vs 11.3 ms, K=48 N=144
 * 6.95 vs 11.9 ms (this kernel vs {@code Linear.linear} plus copies); the model uses it up to a
 * K x N limit (SpatialMix.JAVA_LINEAR_MAX).
 *
 * <p>The kernel keeps four rows' accumulators in registers per vector of output columns and
 * broadcasts each input value: the weight is read transposed, (K, N), so a vector of N runs
 * contiguously. Rows are spread over threads in blocks.
 */
public final class TokenLinear {

    /** Rows per parallel task. */
    private static final int BLOCK = 256;

    private TokenLinear() {}

    /** A torch Linear weight (N, K), row-major, transposed to (K, N). */
    public static float[] transpose(float[] w, int n, int k) {
        if (w.length != n * k) {
            throw new IllegalArgumentException("weight holds " + w.length + " values, expected " + n + " x " + k);
        }
        float[] t = new float[k * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                t[j * n + i] = w[i * k + j];
            }
        }
        return t;
    }

    /** out (rows, N) = x (rows, K) times wt (K, N); out may not alias x. */
    public static void linear(float[] x, float[] wt, int k, int n, float[] out, int rows) {
        linear(VectorSupport.AVAILABLE, x, wt, k, n, out, rows);
    }

    /** {@link #linear} with the vector kernel or plain loops (tests run both). */
    static void linear(boolean simd, float[] x, float[] wt, int k, int n, float[] out, int rows) {
        check(x, wt, k, n, out, rows);
        forEachBlock(rows, (r0, r1) -> block(simd, x, wt, k, n, out, r0, r1));
    }

    /**
     * The channel mix's value path: {@code out = relu(x Wk^T)^2 Wv^T}, with wkT (C, H) and wvT (H, C),
     * H the hidden width. The hidden rows exist only per block, so memory stays O(block x H).
     */
    public static void squaredReluMlp(float[] x, float[] wkT, float[] wvT, int c, int hidden, float[] out, int rows) {
        if (c < 1 || hidden < 1 || wkT.length != c * hidden || wvT.length != hidden * c || x.length < (long) rows * c
                || out.length < (long) rows * c || x == out) {
            throw new IllegalArgumentException("channel-mix MLP: inconsistent sizes (rows " + rows + ", C " + c + ", hidden "
                    + hidden + ")");
        }
        boolean simd = VectorSupport.AVAILABLE;
        forEachBlock(rows, (r0, r1) -> {
            float[] h = hiddenScratch(BLOCK * hidden);
            // h = x[r0:r1] Wk^T, then relu(h)^2 in place, then out[r0:r1] = h Wv^T
            blockInto(simd, x, r0 * c, wkT, c, hidden, h, 0, r1 - r0);
            for (int i = 0; i < (r1 - r0) * hidden; i++) {
                float v = Math.max(h[i], 0f);
                h[i] = v * v;
            }
            blockInto(simd, h, 0, wvT, hidden, c, out, r0 * c, r1 - r0);
        });
    }

    /** Per-thread hidden rows of {@link #squaredReluMlp}, grown as needed and reused. */
    private static final ThreadLocal<float[][]> HIDDEN = Scratch.floatSlots(1);

    /** Per-thread copy of the tail columns of wt, one column of K floats after another. */
    private static final ThreadLocal<float[][]> TAIL = Scratch.floatSlots(1);

    private static float[] hiddenScratch(int size) {
        return Scratch.floats(HIDDEN, 0, size);
    }

    private static void block(boolean simd, float[] x, float[] wt, int k, int n, float[] out, int r0, int r1) {
        blockInto(simd, x, r0 * k, wt, k, n, out, r0 * n, r1 - r0);
    }

    /** rows rows of x from xo times wt into out from oo. */
    private static void blockInto(boolean simd, float[] x, int xo, float[] wt, int k, int n, float[] out, int oo, int rows) {
        int done = simd ? Simd.rows(x, xo, wt, k, n, out, oo, rows) : 0;
        int whole = simd ? n / Simd.lanes() * Simd.lanes() : 0;
        // columns after the whole vectors, for every row: dot products along K on vectors, where K
        // fills them (a convolution to 8 channels, the light model's first downsampling, would
        // otherwise be all scalar code)
        boolean tail = simd && whole < n && k >= Simd.lanes();
        if (tail) {
            Simd.tailColumns(x, xo, wt, k, n, whole, out, oo, rows, Scratch.floats(TAIL, 0, (n - whole) * k));
        }
        // what the vector code leaves (or all of it): plain dot products
        int toCol = tail ? whole : n;
        for (int r = 0; r < rows; r++) {
            int c0 = r < done ? whole : 0;
            int xr = xo + r * k;
            int orow = oo + r * n;
            for (int j = c0; j < toCol; j++) {
                float s = 0;
                for (int i = 0; i < k; i++) {
                    s += x[xr + i] * wt[i * n + j];
                }
                out[orow + j] = s;
            }
        }
    }

    /** Runs body(r0, r1) over row blocks, spread over threads. */
    private static void forEachBlock(int rows, BlockBody body) {
        int blocks = (rows + BLOCK - 1) / BLOCK;
        Parallel.forEach(blocks, b -> body.run(b * BLOCK, Math.min(rows, (b + 1) * BLOCK)));
    }

    private interface BlockBody {
        void run(int r0, int r1);
    }

    private static void check(float[] x, float[] wt, int k, int n, float[] out, int rows) {
        if (k < 1 || n < 1 || wt.length != k * n || x.length < (long) rows * k || out.length < (long) rows * n || x == out) {
            throw new IllegalArgumentException("linear: inconsistent sizes (rows " + rows + ", K " + k + ", N " + n + ")");
        }
    }

    /** Loaded only when {@link VectorSupport#AVAILABLE}. */
    private static final class Simd {
        private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;

        private Simd() {}

        static int lanes() {
            return SP.length();
        }

        /**
         * out[r, j] for every row and the columns j in [from, n): wt's columns gathered once into
         * {@code cols} (contiguous along K), then each output a vector dot product of the input row and
         * its column, reduced once. Only for K >= lanes.
         */
        static void tailColumns(float[] x, int xo, float[] wt, int k, int n, int from, float[] out, int oo, int rows,
                                float[] cols) {
            for (int j = from; j < n; j++) {
                for (int i = 0; i < k; i++) {
                    cols[(j - from) * k + i] = wt[i * n + j];
                }
            }
            int lanes = SP.length();
            int kv = k / lanes * lanes;
            for (int r = 0; r < rows; r++) {
                int xr = xo + r * k;
                for (int j = from; j < n; j++) {
                    int c = (j - from) * k;
                    FloatVector acc = FloatVector.zero(SP);
                    for (int i = 0; i < kv; i += lanes) {
                        acc = FloatVector.fromArray(SP, x, xr + i).fma(FloatVector.fromArray(SP, cols, c + i), acc);
                    }
                    float s = FastExp.Lanes.sum(acc);
                    for (int i = kv; i < k; i++) {
                        s += x[xr + i] * cols[c + i];
                    }
                    out[oo + r * n + j] = s;
                }
            }
        }

        /**
         * The whole vectors of output columns for rows in groups of four; returns how many rows it
         * covered (the caller does the rest). Output columns go four vectors at a time where they
         * can, then two, then one: each weight vector loaded and each input value broadcast serves
         * four, respectively two, accumulators more, and the loads, not the FMAs, bound the loop.
         */
        static int rows(float[] x, int xo, float[] wt, int k, int n, float[] out, int oo, int rows) {
            int lanes = SP.length();
            int whole = n / lanes * lanes;
            int r = 0;
            for (; r + 4 <= rows; r += 4) {
                int x0 = xo + r * k;
                int o0 = oo + r * n;
                int j = 0;
                for (; j + 4 * lanes <= whole; j += 4 * lanes) {
                    fourByFour(x, x0, wt, k, n, j, out, o0);
                }
                for (; j + 2 * lanes <= whole; j += 2 * lanes) {
                    fourByTwo(x, x0, wt, k, n, j, out, o0);
                }
                for (; j < whole; j += lanes) {
                    FloatVector a0 = FloatVector.zero(SP);
                    FloatVector a1 = a0;
                    FloatVector a2 = a0;
                    FloatVector a3 = a0;
                    for (int i = 0; i < k; i++) {
                        FloatVector w = FloatVector.fromArray(SP, wt, i * n + j);
                        a0 = w.fma(FloatVector.broadcast(SP, x[x0 + i]), a0);
                        a1 = w.fma(FloatVector.broadcast(SP, x[x0 + k + i]), a1);
                        a2 = w.fma(FloatVector.broadcast(SP, x[x0 + 2 * k + i]), a2);
                        a3 = w.fma(FloatVector.broadcast(SP, x[x0 + 3 * k + i]), a3);
                    }
                    a0.intoArray(out, o0 + j);
                    a1.intoArray(out, o0 + n + j);
                    a2.intoArray(out, o0 + 2 * n + j);
                    a3.intoArray(out, o0 + 3 * n + j);
                }
            }
            return r;
        }

        /** Rows x0 / k .. + 4, output columns [j, j + 4 lanes): 16 accumulators. */
        private static void fourByFour(float[] x, int x0, float[] wt, int k, int n, int j, float[] out, int o0) {
            int lanes = SP.length();
            FloatVector a00 = FloatVector.zero(SP);
            FloatVector a01 = a00;
            FloatVector a02 = a00;
            FloatVector a03 = a00;
            FloatVector a10 = a00;
            FloatVector a11 = a00;
            FloatVector a12 = a00;
            FloatVector a13 = a00;
            FloatVector a20 = a00;
            FloatVector a21 = a00;
            FloatVector a22 = a00;
            FloatVector a23 = a00;
            FloatVector a30 = a00;
            FloatVector a31 = a00;
            FloatVector a32 = a00;
            FloatVector a33 = a00;
            for (int i = 0; i < k; i++) {
                int wi = i * n + j;
                FloatVector w0 = FloatVector.fromArray(SP, wt, wi);
                FloatVector w1 = FloatVector.fromArray(SP, wt, wi + lanes);
                FloatVector w2 = FloatVector.fromArray(SP, wt, wi + 2 * lanes);
                FloatVector w3 = FloatVector.fromArray(SP, wt, wi + 3 * lanes);
                FloatVector b = FloatVector.broadcast(SP, x[x0 + i]);
                a00 = w0.fma(b, a00);
                a01 = w1.fma(b, a01);
                a02 = w2.fma(b, a02);
                a03 = w3.fma(b, a03);
                b = FloatVector.broadcast(SP, x[x0 + k + i]);
                a10 = w0.fma(b, a10);
                a11 = w1.fma(b, a11);
                a12 = w2.fma(b, a12);
                a13 = w3.fma(b, a13);
                b = FloatVector.broadcast(SP, x[x0 + 2 * k + i]);
                a20 = w0.fma(b, a20);
                a21 = w1.fma(b, a21);
                a22 = w2.fma(b, a22);
                a23 = w3.fma(b, a23);
                b = FloatVector.broadcast(SP, x[x0 + 3 * k + i]);
                a30 = w0.fma(b, a30);
                a31 = w1.fma(b, a31);
                a32 = w2.fma(b, a32);
                a33 = w3.fma(b, a33);
            }
            int o = o0 + j;
            a00.intoArray(out, o);
            a01.intoArray(out, o + lanes);
            a02.intoArray(out, o + 2 * lanes);
            a03.intoArray(out, o + 3 * lanes);
            o += n;
            a10.intoArray(out, o);
            a11.intoArray(out, o + lanes);
            a12.intoArray(out, o + 2 * lanes);
            a13.intoArray(out, o + 3 * lanes);
            o += n;
            a20.intoArray(out, o);
            a21.intoArray(out, o + lanes);
            a22.intoArray(out, o + 2 * lanes);
            a23.intoArray(out, o + 3 * lanes);
            o += n;
            a30.intoArray(out, o);
            a31.intoArray(out, o + lanes);
            a32.intoArray(out, o + 2 * lanes);
            a33.intoArray(out, o + 3 * lanes);
        }

        /** Rows x0 / k .. + 4, output columns [j, j + 2 lanes): 8 accumulators. */
        private static void fourByTwo(float[] x, int x0, float[] wt, int k, int n, int j, float[] out, int o0) {
            int lanes = SP.length();
            FloatVector a00 = FloatVector.zero(SP);
            FloatVector a01 = a00;
            FloatVector a10 = a00;
            FloatVector a11 = a00;
            FloatVector a20 = a00;
            FloatVector a21 = a00;
            FloatVector a30 = a00;
            FloatVector a31 = a00;
            for (int i = 0; i < k; i++) {
                int wi = i * n + j;
                FloatVector w0 = FloatVector.fromArray(SP, wt, wi);
                FloatVector w1 = FloatVector.fromArray(SP, wt, wi + lanes);
                FloatVector b = FloatVector.broadcast(SP, x[x0 + i]);
                a00 = w0.fma(b, a00);
                a01 = w1.fma(b, a01);
                b = FloatVector.broadcast(SP, x[x0 + k + i]);
                a10 = w0.fma(b, a10);
                a11 = w1.fma(b, a11);
                b = FloatVector.broadcast(SP, x[x0 + 2 * k + i]);
                a20 = w0.fma(b, a20);
                a21 = w1.fma(b, a21);
                b = FloatVector.broadcast(SP, x[x0 + 3 * k + i]);
                a30 = w0.fma(b, a30);
                a31 = w1.fma(b, a31);
            }
            int o = o0 + j;
            a00.intoArray(out, o);
            a01.intoArray(out, o + lanes);
            o += n;
            a10.intoArray(out, o);
            a11.intoArray(out, o + lanes);
            o += n;
            a20.intoArray(out, o);
            a21.intoArray(out, o + lanes);
            o += n;
            a30.intoArray(out, o);
            a31.intoArray(out, o + lanes);
        }
    }
}
