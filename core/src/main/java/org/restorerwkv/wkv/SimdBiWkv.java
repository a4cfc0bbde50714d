package org.restorerwkv.wkv;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

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
 * Loaded only when {@link VectorSupport#AVAILABLE}, so the scalar code never touches vector classes.
 */
final class SimdBiWkv {

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

    private SimdBiWkv() {}

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

    static void fused(float[] w, float[] u, float[] k, float[] v, float[] out, BiWkv.Strides st,
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
        final BiWkv.Strides st;
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

        Kernel(float[] w, float[] u, float[] k, float[] v, float[] out, BiWkv.Strides st,
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
                long row = row0 + ScalarBiWkv.token(s0 + i, height, width, columnMajor);
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
                    FastExp.Lanes.exp(FloatVector.fromArray(FS, k, ko + g).convertShape(VectorOperators.F2D, SP, 0)
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
                    FloatVector e = FastExp.Lanes.exp(FloatVector.fromArray(FS, k, ko + g)
                            .sub(FloatVector.fromArray(FS, mxf, g)));
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
                    FastExp.Lanes.exp(FloatVector.fromArray(FP, k, offs[3 * s] + g).sub(mx))
                            .intoArray(out, offs[3 * s + 2] + g);
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
