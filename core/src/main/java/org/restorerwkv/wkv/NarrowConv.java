package org.restorerwkv.wkv;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A dense k x k convolution (stride 1, zero padding k / 2) with few output channels, on planes
 * (B, C, H, W) in Java arrays: each output row is its bias plus, for every input channel and tap,
 * the weight times the shifted input row. For the model's last convolution (2 dim channels to one
 * image) im2col would write k*k copies of every input plane (75 MB for 32 channels at 256 x 256)
 * only to multiply them by one row of weights; here each input row is read from cache k*k times.
 */
public final class NarrowConv {

    /** Output channels up to which {@link #conv} is used in inference instead of im2col. */
    public static final int MAX_OUT = 4;

    private NarrowConv() {}

    /** out (B, cout, H, W) = conv(x (B, cin, H, W), weight (cout, cin, k, k)) + bias (cout, or null). */
    public static void conv(float[] x, int bsz, int cin, int h, int w, float[] weight, float[] bias, int cout, int k,
                            float[] out) {
        conv(VectorSupport.AVAILABLE, x, bsz, cin, h, w, weight, bias, cout, k, out);
    }

    /** {@link #conv} with the vector loop or the plain one (tests run both). */
    static void conv(boolean simd, float[] x, int bsz, int cin, int h, int w, float[] weight, float[] bias, int cout,
                     int k, float[] out) {
        long plane = (long) h * w;
        if (k % 2 == 0 || bsz < 1 || cin < 1 || cout < 1 || x.length < bsz * cin * plane
                || out.length < bsz * cout * plane || weight.length != cout * cin * k * k
                || (bias != null && bias.length != cout) || x == out) {
            throw new IllegalArgumentException("narrow convolution: inconsistent sizes");
        }
        Parallel.forEach(bsz * cout * h, task -> {
            int y = task % h;
            int bo = task / h; // b * cout + o
            int b = bo / cout;
            int o = bo % cout;
            int acc = (bo * h + y) * w;
            java.util.Arrays.fill(out, acc, acc + w, bias == null ? 0f : bias[o]);
            int p = k / 2;
            for (int c = 0; c < cin; c++) {
                int in = (b * cin + c) * h * w;
                for (int dy = 0; dy < k; dy++) {
                    int sy = y + dy - p;
                    if (sy < 0 || sy >= h) {
                        continue;
                    }
                    for (int dx = 0; dx < k; dx++) {
                        float wv = weight[((o * cin + c) * k + dy) * k + dx];
                        int shift = dx - p; // out[x] += wv * in[sy, x + shift] for x + shift inside the row
                        int lo = Math.max(0, -shift);
                        int hi = Math.min(w, w - shift);
                        int src = in + sy * w + shift;
                        int from = lo;
                        if (simd) {
                            from = Simd.axpy(wv, x, src, out, acc, lo, hi);
                        }
                        for (int i = from; i < hi; i++) {
                            out[acc + i] += wv * x[src + i];
                        }
                    }
                }
            }
        });
    }

    /** Loaded only when {@link VectorSupport#AVAILABLE}. */
    private static final class Simd {
        private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;

        private Simd() {}

        /**
         * out[acc + i] += a * x[src + i] for whole vectors of i from lo; returns where the caller's
         * scalar loop takes over (the same fma-free arithmetic, so both give the same floats).
         */
        static int axpy(float a, float[] x, int src, float[] out, int acc, int lo, int hi) {
            int lanes = SP.length();
            FloatVector av = FloatVector.broadcast(SP, a);
            int i = lo;
            for (; i + lanes <= hi; i += lanes) {
                FloatVector.fromArray(SP, x, src + i).mul(av).add(FloatVector.fromArray(SP, out, acc + i))
                        .intoArray(out, acc + i);
            }
            return i;
        }
    }
}
