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

    /** Convolves bsz images of (height, width, ch); out may not alias in. */
    public static void apply(float[] in, float[] taps, float[] out, int bsz, int height, int width, int ch) {
        long n = (long) bsz * height * width * ch;
        if (in.length < n || out.length < n || taps.length != 25 * ch || in == out) {
            throw new IllegalArgumentException("Omni-Shift kernel: inconsistent sizes");
        }
        Parallel.forEach(bsz * height, row -> row(in, taps, out, row / height, row % height, height, width, ch));
    }

    private static void row(float[] in, float[] taps, float[] out, int b, int y, int height, int width, int ch) {
        int rowLen = width * ch;
        int o0 = (b * height + y) * rowLen;
        java.util.Arrays.fill(out, o0, o0 + rowLen, 0f);
        for (int i = 0; i < 5; i++) {
            int sy = y + i - 2;
            if (sy < 0 || sy >= height) {
                continue;
            }
            int i0 = (b * height + sy) * rowLen;
            for (int j = 0; j < 5; j++) {
                int dx = j - 2;
                int t0 = (i * 5 + j) * ch;
                int xFrom = Math.max(0, -dx);
                int xTo = Math.min(width, width - dx);
                for (int x = xFrom; x < xTo; x++) {
                    int o = o0 + x * ch;
                    int s = i0 + (x + dx) * ch;
                    for (int c = 0; c < ch; c++) {
                        out[o + c] += taps[t0 + c] * in[s + c];
                    }
                }
            }
        }
    }
}
