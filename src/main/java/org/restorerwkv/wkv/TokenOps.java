package org.restorerwkv.wkv;

/**
 * Element-wise steps of the RWKV block on channels-last tokens (rows of C floats), fused so that
 * each is one pass over memory; rows are spread over threads in chunks.
 */
public final class TokenOps {

    /** Rows per parallel task: large enough to amortize scheduling, small enough to balance. */
    private static final int CHUNK = 256;

    private TokenOps() {}

    /** nn.LayerNorm(C): out = (x - mean) / sqrt(var + eps) * weight + bias, biased variance. */
    public static void layerNorm(float[] x, float[] weight, float[] bias, float eps, float[] out, int rows, int ch) {
        check(x, rows, ch);
        check(out, rows, ch);
        forEachRow(rows, r -> {
            int o = r * ch;
            double sum = 0;
            for (int c = 0; c < ch; c++) {
                sum += x[o + c];
            }
            double mean = sum / ch;
            double sq = 0;
            for (int c = 0; c < ch; c++) {
                double d = x[o + c] - mean;
                sq += d * d;
            }
            float inv = (float) (1 / Math.sqrt(sq / ch + eps));
            float m = (float) mean;
            for (int c = 0; c < ch; c++) {
                out[o + c] = (x[o + c] - m) * inv * weight[c] + bias[c];
            }
        });
    }

    /** y[r, c] *= sigmoid(g[gOff + r*gStride + c]): the receptance gate of the spatial mix. */
    public static void gate(float[] y, float[] g, int gOff, int gStride, int rows, int ch) {
        check(y, rows, ch);
        forEachRow(rows, r -> {
            int o = r * ch;
            int q = gOff + r * gStride;
            for (int c = 0; c < ch; c++) {
                y[o + c] *= sigmoid(g[q + c]);
            }
        });
    }

    /** x += gamma * a (per channel gamma): the block's residual update. */
    public static void residual(float[] x, float[] gamma, float[] a, int rows, int ch) {
        check(x, rows, ch);
        check(a, rows, ch);
        forEachRow(rows, r -> {
            int o = r * ch;
            for (int c = 0; c < ch; c++) {
                x[o + c] += gamma[c] * a[o + c];
            }
        });
    }

    /** x += gamma * sigmoid(g) * a: the channel mix's gate and the residual update in one pass. */
    public static void gatedResidual(float[] x, float[] gamma, float[] g, float[] a, int rows, int ch) {
        check(x, rows, ch);
        check(g, rows, ch);
        check(a, rows, ch);
        forEachRow(rows, r -> {
            int o = r * ch;
            for (int c = 0; c < ch; c++) {
                x[o + c] += gamma[c] * (sigmoid(g[o + c]) * a[o + c]);
            }
        });
    }

    /** (B, C, T) planes -> (B, T, C) tokens. */
    public static void toTokens(float[] planes, float[] tokens, int bsz, int len, int ch) {
        Parallel.forEach(bsz * ch, p -> {
            int b = p / ch;
            int c = p % ch;
            int src = p * len;
            int dst = b * len * ch + c;
            for (int t = 0; t < len; t++) {
                tokens[dst + t * ch] = planes[src + t];
            }
        });
    }

    /** (B, T, C) tokens -> (B, C, T) planes. */
    public static void toPlanes(float[] tokens, float[] planes, int bsz, int len, int ch) {
        Parallel.forEach(bsz * ch, p -> {
            int b = p / ch;
            int c = p % ch;
            int dst = p * len;
            int src = b * len * ch + c;
            for (int t = 0; t < len; t++) {
                planes[dst + t] = tokens[src + t * ch];
            }
        });
    }

    /** torch.sigmoid in float32. */
    static float sigmoid(float x) {
        return (float) (1 / (1 + Math.exp(-x)));
    }

    /** Runs body(r) for every row, rows spread over threads in chunks of {@link #CHUNK}. */
    private static void forEachRow(int rows, java.util.function.IntConsumer body) {
        Parallel.forEach(chunks(rows), t -> {
            int end = Math.min(rows, (t + 1) * CHUNK);
            for (int r = t * CHUNK; r < end; r++) {
                body.accept(r);
            }
        });
    }

    private static int chunks(int rows) {
        return (rows + CHUNK - 1) / CHUNK;
    }

    private static void check(float[] a, int rows, int ch) {
        if (a.length < (long) rows * ch) {
            throw new IllegalArgumentException("token buffer holds " + a.length + " values, needs " + (long) rows * ch);
        }
    }
}
