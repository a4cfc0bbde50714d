package org.restorerwkv.wkv;

import java.util.Arrays;

/**
 * The fused Bi-WKV in plain Java, forward and backward, float64 sums, threads over batch x channel
 * blocks: what runs when the vector API is absent, and the backward's scans for the channels that
 * do not fill a vector.
 */
final class ScalarBiWkv {

    /** Channels one fused-kernel task scans together (its inner, vectorizable loop). */
    static final int CHANNEL_BLOCK = 8;

    private ScalarBiWkv() {}

    /** The scalar fused kernel: threads over batch x channel blocks. */
    static void fused(float[] w, float[] u, float[] k, float[] v, float[] out, BiWkv.Strides st,
                      int bsz, int height, int width, int ch, boolean columnMajor) {
        int blocks = (ch + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK;
        Parallel.forEach(bsz * blocks, i -> fusedBlock(w, u, k, v, out, st, i / blocks,
                (i % blocks) * CHANNEL_BLOCK, height, width, ch, columnMajor));
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
        FastExp.expInPlace(e, len * cb);
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
    private static void fusedBlock(float[] w, float[] u, float[] k, float[] v, float[] out, BiWkv.Strides st,
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

    /** {@link BiWkv#fusedBackward} over batch x channel blocks; dL/dw and dL/du per (b, c) into the parts. */
    static void backward(float[] w, float[] u, float[] k, float[] v, float[] y, float[] gy, float[] gk,
                         float[] gv, double[] gwPart, double[] guPart, int bsz, int height, int width, int ch,
                         boolean columnMajor) {
        int blocks = (ch + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK;
        Parallel.forEach(bsz * blocks, i -> backwardBlock(w, u, k, v, y, gy, gk, gv, gwPart, guPart, i / blocks,
                (i % blocks) * CHANNEL_BLOCK, height, width, ch, columnMajor));
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
        int whole = VectorSupport.AVAILABLE ? cb / SimdBiWkv.lanes() * SimdBiWkv.lanes() : 0;
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
            SimdBiWkv.backwardScans(e, ra, rb, p, vd, yd, gyd, gkd, gvd, decay, bonus, gwSum, guSum, len, cb, whole);
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

    /** Row-major token index of scan step s. */
    static int token(int s, int height, int width, boolean columnMajor) {
        if (!columnMajor) {
            return s;
        }
        int x = s / height;
        int y = s - x * height;
        return y * width + x;
    }
}
