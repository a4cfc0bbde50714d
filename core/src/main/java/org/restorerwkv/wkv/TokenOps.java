package org.restorerwkv.wkv;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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
        if (VectorSupport.AVAILABLE) {
            forEachRow(rows, r -> Simd.layerNorm(x, weight, bias, eps, out, r * ch, ch));
            return;
        }
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
        if (VectorSupport.AVAILABLE) {
            forEachRow(rows, r -> Simd.gate(y, r * ch, g, gOff + r * gStride, ch));
            return;
        }
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
        if (VectorSupport.AVAILABLE) {
            forEachRow(rows, r -> Simd.residual(x, gamma, a, r * ch, ch));
            return;
        }
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
        if (VectorSupport.AVAILABLE) {
            forEachRow(rows, r -> Simd.gatedResidual(x, gamma, g, a, r * ch, ch));
            return;
        }
        forEachRow(rows, r -> {
            int o = r * ch;
            for (int c = 0; c < ch; c++) {
                x[o + c] += gamma[c] * (sigmoid(g[o + c]) * a[o + c]);
            }
        });
    }

    /**
     * Tokens per block of the transposes: a block's tokens x C floats (16 KB at C = 64) stay in L1
     * while each channel's run of the block is copied, instead of every channel pass striding over
     * the whole image.
     */
    private static final int TRANSPOSE_BLOCK = 64;

    /** (B, C, T) planes -> (B, T, C) tokens. */
    public static void toTokens(float[] planes, float[] tokens, int bsz, int len, int ch) {
        transpose(planes, tokens, bsz, len, ch, true);
    }

    /** (B, T, C) tokens -> (B, C, T) planes. */
    public static void toPlanes(float[] tokens, float[] planes, int bsz, int len, int ch) {
        transpose(tokens, planes, bsz, len, ch, false);
    }

    /** Planes to tokens ({@code toTokens}) or back, a block of tokens per task. */
    private static void transpose(float[] from, float[] to, int bsz, int len, int ch, boolean toTokens) {
        int blocks = (len + TRANSPOSE_BLOCK - 1) / TRANSPOSE_BLOCK;
        Parallel.forEach(bsz * blocks, p -> {
            int b = p / blocks;
            int t0 = (p % blocks) * TRANSPOSE_BLOCK;
            int t1 = Math.min(len, t0 + TRANSPOSE_BLOCK);
            int base = b * len * ch;
            for (int c = 0; c < ch; c++) {
                int plane = base + c * len;
                if (toTokens) {
                    for (int t = t0; t < t1; t++) {
                        to[base + t * ch + c] = from[plane + t];
                    }
                } else {
                    for (int t = t0; t < t1; t++) {
                        to[plane + t] = from[base + t * ch + c];
                    }
                }
            }
        });
    }

    /**
     * im2col on channels-last tokens: for tokens t0 .. t0 + n - 1 of (B, h, w, c), row t - t0 of cols
     * is the k x k neighbourhood as (dy, dx, channel), {@code cols[(t - t0) * k*k*c + (dy*k + dx)*c + ch]
     * = x[b, y + dy - k/2, x + dx - k/2, ch]}, zero outside the image: a stride-1 conv with zero padding
     * k/2 is then one product with the weight (out, c, k, k) arranged as (out, (dy, dx, c)).
     */
    public static void im2col(float[] x, int h, int w, int c, int k, int t0, int n, float[] cols) {
        int p = k / 2;
        int len = h * w;
        int row = k * k * c;
        if (cols.length < (long) n * row || x.length < (long) (t0 + n) * c) {
            throw new IllegalArgumentException("im2col: buffers too small");
        }
        forEachRow(n, i -> {
            int t = t0 + i;
            int b = t / len;
            int y = t % len / w;
            int xx = t % w;
            int o = i * row;
            for (int dy = 0; dy < k; dy++) {
                int yy = y + dy - p;
                for (int dx = 0; dx < k; dx++, o += c) {
                    int xs = xx + dx - p;
                    if (yy < 0 || yy >= h || xs < 0 || xs >= w) {
                        Arrays.fill(cols, o, o + c, 0f);
                    } else {
                        System.arraycopy(x, ((b * h + yy) * w + xs) * c, cols, o, c);
                    }
                }
            }
        });
    }

    /** out[r, :] = x[r, :] + bias for rows of ch floats. */
    public static void addBias(float[] x, float[] bias, int rows, int ch) {
        check(x, rows, ch);
        forEachRow(rows, r -> {
            int o = r * ch;
            for (int i = 0; i < ch; i++) {
                x[o + i] += bias[i];
            }
        });
    }

    /**
     * PixelUnshuffle(2) on tokens: (B, h, w, c) -> (B, h/2, w/2, 4c), out channel ch*4 + i*2 + j taking
     * pixel (2y + i, 2x + j) of channel ch, PyTorch's order.
     */
    public static void pixelUnshuffle(float[] x, float[] out, int bsz, int h, int w, int c) {
        shuffle(out, x, bsz, h / 2, w / 2, c, true);
    }

    /** PixelShuffle(2) on tokens, the inverse: (B, h, w, 4c) -> (B, 2h, 2w, c). */
    public static void pixelShuffle(float[] x, float[] out, int bsz, int h, int w, int c) {
        shuffle(x, out, bsz, h, w, c, false);
    }

    /**
     * The one index map of both directions, packed (B, h, w, 4c) against full resolution (B, 2h, 2w, c):
     * packed channel ch*4 + i*2 + j is pixel (2y + i, 2x + j) of channel ch; copies full -> packed or back.
     */
    private static void shuffle(float[] packed, float[] full, int bsz, int h, int w, int c, boolean toPacked) {
        check(packed, bsz * h * w, 4 * c);
        check(full, bsz * h * w * 4, c);
        forEachRow(bsz * h * w, t -> {
            int b = t / (h * w);
            int y = t % (h * w) / w;
            int xx = t % w;
            int q = t * 4 * c;
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    int f = ((b * 2 * h + 2 * y + i) * 2 * w + 2 * xx + j) * c;
                    int g = q + i * 2 + j;
                    for (int ch = 0; ch < c; ch++) {
                        if (toPacked) {
                            packed[g + 4 * ch] = full[f + ch];
                        } else {
                            full[f + ch] = packed[g + 4 * ch];
                        }
                    }
                }
            }
        });
    }

    /** Channel concatenation of tokens: out[r] = [a[r, :ca], b[r, :cb]]. */
    public static void concat(float[] a, int ca, float[] b, int cb, float[] out, int rows) {
        check(a, rows, ca);
        check(b, rows, cb);
        check(out, rows, ca + cb);
        forEachRow(rows, r -> {
            System.arraycopy(a, r * ca, out, r * (ca + cb), ca);
            System.arraycopy(b, r * cb, out, r * (ca + cb) + ca, cb);
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

    /**
     * The same steps on one row with the JDK vector API (float lanes across channels, a scalar tail
     * for {@code ch % lanes}); loaded only when {@link VectorSupport#AVAILABLE}. Sums run in float
     * lanes, so results differ from the scalar path's float64 sums in the last bits, as libtorch's do;
     * lane sums go through {@link VectorMath}, so they do not change when the JIT compiles the loop.
     */
    private static final class Simd {
        /** A static final species: the JIT turns vector operations into instructions only for constants. */
        private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
        /** Per-thread scratch for lane sums in a fixed order ({@link VectorMath#sum}). */
        private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[SP.length()]);

        private Simd() {}

        /** 1 / (1 + exp(-x)) per lane. */
        private static FloatVector sigmoid(FloatVector x) {
            return FloatVector.broadcast(SP, 1f).div(VectorMath.exp(x.neg()).add(1f));
        }

        static void layerNorm(float[] x, float[] weight, float[] bias, float eps, float[] out, int o, int ch) {
            int lanes = SP.length();
            int whole = ch / lanes * lanes;
            float[] scratch = LANES.get();
            FloatVector acc = FloatVector.zero(SP);
            for (int c = 0; c < whole; c += lanes) {
                acc = acc.add(FloatVector.fromArray(SP, x, o + c));
            }
            float sum = VectorMath.sum(acc, scratch);
            for (int c = whole; c < ch; c++) {
                sum += x[o + c];
            }
            float mean = sum / ch;
            FloatVector sqAcc = FloatVector.zero(SP);
            for (int c = 0; c < whole; c += lanes) {
                FloatVector d = FloatVector.fromArray(SP, x, o + c).sub(mean);
                sqAcc = d.fma(d, sqAcc);
            }
            float sq = VectorMath.sum(sqAcc, scratch);
            for (int c = whole; c < ch; c++) {
                float d = x[o + c] - mean;
                sq += d * d;
            }
            float inv = (float) (1 / Math.sqrt(sq / ch + eps));
            for (int c = 0; c < whole; c += lanes) {
                FloatVector.fromArray(SP, x, o + c).sub(mean).mul(inv).mul(FloatVector.fromArray(SP, weight, c))
                        .add(FloatVector.fromArray(SP, bias, c)).intoArray(out, o + c);
            }
            for (int c = whole; c < ch; c++) {
                out[o + c] = (x[o + c] - mean) * inv * weight[c] + bias[c];
            }
        }

        static void gate(float[] y, int o, float[] g, int q, int ch) {
            int lanes = SP.length();
            int whole = ch / lanes * lanes;
            for (int c = 0; c < whole; c += lanes) {
                FloatVector.fromArray(SP, y, o + c).mul(sigmoid(FloatVector.fromArray(SP, g, q + c))).intoArray(y, o + c);
            }
            for (int c = whole; c < ch; c++) {
                y[o + c] *= TokenOps.sigmoid(g[q + c]);
            }
        }

        static void residual(float[] x, float[] gamma, float[] a, int o, int ch) {
            int lanes = SP.length();
            int whole = ch / lanes * lanes;
            for (int c = 0; c < whole; c += lanes) {
                FloatVector.fromArray(SP, gamma, c).fma(FloatVector.fromArray(SP, a, o + c), FloatVector.fromArray(SP, x, o + c))
                        .intoArray(x, o + c);
            }
            for (int c = whole; c < ch; c++) {
                x[o + c] += gamma[c] * a[o + c];
            }
        }

        static void gatedResidual(float[] x, float[] gamma, float[] g, float[] a, int o, int ch) {
            int lanes = SP.length();
            int whole = ch / lanes * lanes;
            for (int c = 0; c < whole; c += lanes) {
                FloatVector ga = sigmoid(FloatVector.fromArray(SP, g, o + c)).mul(FloatVector.fromArray(SP, a, o + c));
                FloatVector.fromArray(SP, gamma, c).fma(ga, FloatVector.fromArray(SP, x, o + c)).intoArray(x, o + c);
            }
            for (int c = whole; c < ch; c++) {
                x[o + c] += gamma[c] * (TokenOps.sigmoid(g[o + c]) * a[o + c]);
            }
        }
    }
}
