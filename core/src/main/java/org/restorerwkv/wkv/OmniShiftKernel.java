package org.restorerwkv.wkv;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Omni-Shift in its re-parameterized inference form, a depthwise 5x5 convolution with zero padding
 * 2, computed directly on channels-last tokens (B, H, W, C) (the RWKV block's own layout, so no
 * image/token transposes):
 *
 * <pre>
 * out[b,y,x,c] = sum_{i,j in 0..4} taps[(i*5 + j)*C + c] * in[b, y+i-2, x+j-2, c]   (zero outside)
 * </pre>
 *
 * taps is the (C,1,5,5) weight transposed to tap-major (25, C), so the innermost loop runs over
 * contiguous channels in all three arrays. Rows are spread over threads. Where C is a multiple of
 * the vector length, the vector-API form keeps the sums of four neighbouring pixels in registers
 * across the 25 taps and fuses each multiply-add (one rounding per tap where the scalar form has
 * two: results differ from it in the last bits only); the scalar form, for JVMs without the vector
 * API, keeps separate multiplies and adds, as Math.fma is a slow software routine on CPUs
 * without FMA.
 */
public final class OmniShiftKernel {

    private OmniShiftKernel() {}

    /** (C, 1, 5, 5) weight -> tap-major (25, C). */
    public static float[] tapMajor(float[] weight, int ch) {
        if (weight.length != ch * 25) {
            throw new IllegalArgumentException("Omni-Shift weight must hold C*25 values");
        }
        float[] taps = new float[25 * ch];
        for (int c = 0; c < ch; c++) {
            for (int q = 0; q < 25; q++) {
                taps[q * ch + c] = weight[c * 25 + q];
            }
        }
        return taps;
    }

    /** Floats of output one inner loop covers: a block of whole pixels that stays in L1 across the 25 taps. */
    private static final int BLOCK = 1024;

    /** Per-thread block buffers: the accumulator and the shifted source segment. */
    private static final ThreadLocal<float[][]> BLOCKS = Scratch.floatSlots(2);
    /** Per-thread tiled taps, one slot a tap, of the calling thread (read by all threads of one call). */
    private static final ThreadLocal<float[][]> TILED = Scratch.floatSlots(25);

    /** Convolves bsz images of (height, width, ch); out may not alias in. */
    public static void apply(float[] in, float[] taps, float[] out, int bsz, int height, int width, int ch) {
        apply(VectorSupport.AVAILABLE && ch % Simd.LANES == 0, in, taps, out, bsz, height, width, ch);
    }

    /** Floats in one vector of the vector-API form (only where {@link VectorSupport#AVAILABLE}). */
    static int simdLanes() {
        return Simd.LANES;
    }

    /** {@link #apply} in the vector-API form ({@code simd}, C a multiple of the vector length) or the scalar one. */
    static void apply(boolean simd, float[] in, float[] taps, float[] out, int bsz, int height, int width, int ch) {
        long n = (long) bsz * height * width * ch;
        if (in.length < n || out.length < n || taps.length != 25 * ch || in == out) {
            throw new IllegalArgumentException("Omni-Shift kernel: inconsistent sizes");
        }
        if (simd) {
            if (ch % Simd.LANES != 0) {
                throw new IllegalArgumentException("Omni-Shift kernel: " + ch + " channels, not a multiple of " + Simd.LANES);
            }
            Parallel.forEach(bsz * height, row -> Simd.row(in, taps, out, row / height, row % height, height, width, ch));
            return;
        }
        // each tap's C weights repeated over a block of pixels, so the inner loop runs over
        // (pixel, channel) pairs contiguously: one long loop even for small C
        int px = Math.max(1, Math.min(width, BLOCK / ch));
        int span = px * ch;
        float[][] tiled = TILED.get();
        for (int q = 0; q < 25; q++) {
            float[] tap = Scratch.floats(TILED, q, span);
            for (int x = 0; x < px; x++) {
                System.arraycopy(taps, q * ch, tap, x * ch, ch);
            }
        }
        Parallel.forEach(bsz * height, row -> row(in, tiled, out, row / height, row % height, height, width, ch, px));
    }

    private static void row(float[] in, float[][] tiled, float[] out, int b, int y, int height, int width, int ch, int px) {
        int rowLen = width * ch;
        int span = px * ch;
        float[] acc = Scratch.floats(BLOCKS, 0, span);
        float[] src = Scratch.floats(BLOCKS, 1, span);
        int o0 = (b * height + y) * rowLen;
        for (int x0 = 0; x0 < width; x0 += px) {
            int x1 = Math.min(width, x0 + px);
            java.util.Arrays.fill(acc, 0, (x1 - x0) * ch, 0f);
            for (int i = 0; i < 5; i++) {
                int sy = y + i - 2;
                if (sy < 0 || sy >= height) {
                    continue;
                }
                int i0 = (b * height + sy) * rowLen;
                for (int j = 0; j < 5; j++) {
                    int dx = j - 2;
                    int lo = Math.max(x0, -dx); // first x whose source x+dx is inside the image
                    int hi = Math.min(x1, width - dx);
                    if (lo >= hi) {
                        continue;
                    }
                    int from = (lo - x0) * ch;
                    int to = (hi - x0) * ch;
                    // the source segment copied to the accumulator's index: the JIT (JDK 17)
                    // vectorizes only loops whose arrays share one index expression
                    System.arraycopy(in, i0 + (lo + dx) * ch, src, from, to - from);
                    float[] tap = tiled[i * 5 + j];
                    for (int m = from; m < to; m++) {
                        acc[m] += tap[m] * src[m];
                    }
                }
            }
            System.arraycopy(acc, 0, out, o0 + x0 * ch, (x1 - x0) * ch);
        }
    }

    /** The vector-API form; loaded only where {@link VectorSupport#AVAILABLE}. */
    private static final class Simd {
        private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
        static final int LANES = SP.length();

        /** One output row, channel slice by channel slice. */
        static void row(float[] in, float[] taps, float[] out, int b, int y, int height, int width, int ch) {
            int rowLen = width * ch;
            int o0 = (b * height + y) * rowLen;
            int i0 = Math.max(0, 2 - y); // kernel rows whose source row y + i - 2 is inside the image
            int i1 = Math.min(5, height + 2 - y);
            int img = b * height * rowLen;
            for (int c = 0; c < ch; c += LANES) {
                int x = 0;
                for (; x < Math.min(2, width); x++) {
                    pixel(in, taps, out, img, o0, y, x, width, ch, c, i0, i1);
                }
                // interior: all five kernel columns inside the row, four pixels at a time; per
                // kernel row the eight input vectors they share are loaded once and each tap once
                // (13 loads for 20 fused multiply-adds: the arithmetic, not the loads, bounds it);
                // the five taps are written out, as vectors held in an array would be heap objects
                // to C2 rather than registers
                for (; x + 4 <= width - 2; x += 4) {
                    FloatVector a0 = FloatVector.zero(SP);
                    FloatVector a1 = a0;
                    FloatVector a2 = a0;
                    FloatVector a3 = a0;
                    for (int i = i0; i < i1; i++) {
                        int src = img + (y + i - 2) * rowLen + (x - 2) * ch + c;
                        int tap = i * 5 * ch + c;
                        FloatVector v0 = FloatVector.fromArray(SP, in, src);
                        FloatVector v1 = FloatVector.fromArray(SP, in, src + ch);
                        FloatVector v2 = FloatVector.fromArray(SP, in, src + 2 * ch);
                        FloatVector v3 = FloatVector.fromArray(SP, in, src + 3 * ch);
                        FloatVector v4 = FloatVector.fromArray(SP, in, src + 4 * ch);
                        FloatVector v5 = FloatVector.fromArray(SP, in, src + 5 * ch);
                        FloatVector v6 = FloatVector.fromArray(SP, in, src + 6 * ch);
                        FloatVector v7 = FloatVector.fromArray(SP, in, src + 7 * ch);
                        FloatVector t = FloatVector.fromArray(SP, taps, tap);
                        a0 = t.fma(v0, a0);
                        a1 = t.fma(v1, a1);
                        a2 = t.fma(v2, a2);
                        a3 = t.fma(v3, a3);
                        t = FloatVector.fromArray(SP, taps, tap + ch);
                        a0 = t.fma(v1, a0);
                        a1 = t.fma(v2, a1);
                        a2 = t.fma(v3, a2);
                        a3 = t.fma(v4, a3);
                        t = FloatVector.fromArray(SP, taps, tap + 2 * ch);
                        a0 = t.fma(v2, a0);
                        a1 = t.fma(v3, a1);
                        a2 = t.fma(v4, a2);
                        a3 = t.fma(v5, a3);
                        t = FloatVector.fromArray(SP, taps, tap + 3 * ch);
                        a0 = t.fma(v3, a0);
                        a1 = t.fma(v4, a1);
                        a2 = t.fma(v5, a2);
                        a3 = t.fma(v6, a3);
                        t = FloatVector.fromArray(SP, taps, tap + 4 * ch);
                        a0 = t.fma(v4, a0);
                        a1 = t.fma(v5, a1);
                        a2 = t.fma(v6, a2);
                        a3 = t.fma(v7, a3);
                    }
                    int o = o0 + x * ch + c;
                    a0.intoArray(out, o);
                    a1.intoArray(out, o + ch);
                    a2.intoArray(out, o + 2 * ch);
                    a3.intoArray(out, o + 3 * ch);
                }
                for (; x < width; x++) {
                    pixel(in, taps, out, img, o0, y, x, width, ch, c, i0, i1);
                }
            }
        }

        /** One pixel's channel slice, skipping the kernel columns outside the row. */
        private static void pixel(float[] in, float[] taps, float[] out, int img, int o0, int y, int x, int width,
                                  int ch, int c, int i0, int i1) {
            int rowLen = width * ch;
            int j0 = Math.max(0, 2 - x);
            int j1 = Math.min(5, width + 2 - x);
            FloatVector a = FloatVector.zero(SP);
            for (int i = i0; i < i1; i++) {
                int src = img + (y + i - 2) * rowLen + c;
                for (int j = j0; j < j1; j++) {
                    FloatVector t = FloatVector.fromArray(SP, taps, (i * 5 + j) * ch + c);
                    a = t.fma(FloatVector.fromArray(SP, in, src + (x + j - 2) * ch), a);
                }
            }
            a.intoArray(out, o0 + x * ch + c);
        }
    }
}
