package org.restorerwkv.wkv;

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
 * contiguous channels in all three arrays (vectorized by the JIT). Rows are spread over threads.
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
        long n = (long) bsz * height * width * ch;
        if (in.length < n || out.length < n || taps.length != 25 * ch || in == out) {
            throw new IllegalArgumentException("Omni-Shift kernel: inconsistent sizes");
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
}
