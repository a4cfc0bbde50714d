package org.restorerwkv.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every ablation variant of the RWKV block (token shift x recurrence) against a float64 reference
 * written straight from the definitions below, with plain loops over a small batch: the output of
 * the training form, of the inference form and of the inference fast path, and the gradient of
 * {@code sum(out * G)} with respect to the input and every trained parameter (the reference's by
 * central finite differences).
 *
 * <pre>
 * block:    x1 = x + gamma1 * SpatialMix(LN1(x));  out = x1 + gamma2 * ChannelMix(LN2(x1))
 * shift P:  omni: s = a0 x + a1 DW1x1(x) + a2 DW3x3(x) + a3 DW5x5(x) for every projection P
 *           quad: xx = x shifted by one pixel, channel group g of C/4: from the left, right, top, bottom
 *                 (rest unshifted, zero from outside the image); s_P = x * mix_P + xx * (1 - mix_P)
 *           uni:  xx_t = x_{t-1} in row-major order (x_{-1} = 0); s_P = x * mix_P + xx * (1 - mix_P)
 *           none: s_P = x
 * spatial:  k, v, r = Wk s_k, Wv s_v, Wr s_r; for j < R: v = BiWKV_j(k, v) in row-major order for even j,
 *           column-major for odd j; out = Wo (sigmoid(r) v)
 * BiWKV:    y_t = (sum_{i != t} e^{-(|t-i|-1) w + k_i} v_i + e^{u + k_t} v_t) / (same without v), w = decay/T, u = first/T
 * channel:  out = sigmoid(Wr s_r) * (Wv relu(Wk s_k)^2)
 * </pre>
 */
class TokenShiftParityTest {

    static final int B = 2;
    static final int C = 6; // not a multiple of 4: Quad-Shift's unshifted remainder is covered
    static final int H = 3;
    static final int W = 5; // not square: rows and columns cannot be confused
    static final int HIDDEN_RATE = 2;

    @ParameterizedTest
    @CsvSource({"OMNI,2", "QUAD,2", "UNI,2", "NONE,2", "OMNI,1", "QUAD,3"})
    void blockForwardAndBackwardMatchTheFloat64Definition(TokenShift shift, int recurrence) {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(5);
            Stage stage = new Stage(1, C, recurrence, HIDDEN_RATE, shift);
            stage.initialize(m, DataType.FLOAT32, Layers.image(C));
            RwkvBlock block = stage.blocks().get(0);
            Map<String, Parameter> params = RestoreRwkv.namedParameters(block);
            SplittableRandom rnd = new SplittableRandom(11 + shift.ordinal() * 7L + recurrence);
            Map<String, double[]> ref = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                double[] v = new double[(int) e.getValue().getShape().size()];
                boolean mix = e.getKey().contains("_mix_");
                for (int i = 0; i < v.length; i++) {
                    v[i] = mix ? rnd.nextDouble() : rnd.nextDouble(-1, 1); // a mix is an interpolation weight
                }
                ref.put(e.getKey(), v);
                Module.copyInto(e.getValue().getArray(), floats(v));
            }
            block.weightsChanged();
            assertTrue(params.keySet().stream().anyMatch(k -> shift == TokenShift.NONE
                    ? !k.contains("shift") && !k.contains("_mix_") : shift == TokenShift.OMNI ? k.contains("omni_shift")
                    : k.contains(shift.mixPrefix())), "the shift's parameters: " + params.keySet());
            double[] x = random(rnd, B * C * H * W);
            double[] g = random(rnd, B * C * H * W);
            Reference def = new Reference(ref, shift, recurrence);
            double[] expected = def.forward(x);
            NDArray input = m.create(floats(x), new Shape(B, C, H, W));
            NDArray probe = m.create(floats(g), new Shape(B, C, H, W));

            // inference: the block's own form (fused Bi-WKV, Omni-Shift re-parameterized) and the stage's fast path
            assertClose("inference output", expected, block.forward(input, false).toFloatArray(), 1e-4);
            NDArray fast = stage.forward(new ParameterStore(m, false), input, false);
            assertClose("fast-path output", expected, fast.toFloatArray(), 1e-4);

            // training form: output and gradients through autograd
            block.setWkvKernel(WkvKernel.DIFFERENTIABLE);
            for (Parameter p : params.values()) {
                if (p.getArray().hasGradient()) {
                    p.getArray().getGradient().muli(0);
                }
            }
            NDArray xg = input.duplicate();
            xg.setRequiresGradient(true);
            float[] out;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = block.forward(xg, true);
                out = y.toFloatArray();
                gc.backward(y.mul(probe).sum());
            }
            assertClose("training output", expected, out, 1e-4);
            assertClose("d/dx", def.gradient(x, g, null), xg.getGradient().toFloatArray(), 1e-3);
            List<String> failed = new ArrayList<>();
            int compared = 0;
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                if (e.getKey().endsWith("conv5x5_reparam.weight")) {
                    continue; // derived, never trained
                }
                try {
                    assertClose("d/d " + e.getKey(), def.gradient(x, g, e.getKey()),
                            e.getValue().getArray().getGradient().toFloatArray(), 1e-3);
                } catch (AssertionError err) {
                    failed.add(err.getMessage());
                }
                compared++;
            }
            assertTrue(failed.isEmpty(), failed.size() + " gradients differ: " + String.join("; ", failed));
            assertTrue(compared >= 14, "parameters compared: " + compared);
        }
    }

    /** The block in float64 from the definitions, on (B, C, H, W) images. */
    static final class Reference {
        final Map<String, double[]> p;
        final TokenShift shift;
        final int recurrence;

        Reference(Map<String, double[]> p, TokenShift shift, int recurrence) {
            this.p = p;
            this.shift = shift;
            this.recurrence = recurrence;
        }

        double[] forward(double[] x) {
            int t = H * W;
            double[] out = new double[x.length];
            for (int b = 0; b < B; b++) {
                double[][] tok = new double[t][C];
                for (int c = 0; c < C; c++) {
                    for (int i = 0; i < t; i++) {
                        tok[i][c] = x[(b * C + c) * t + i];
                    }
                }
                double[][] att = spatial(layerNorm(tok, "ln1."));
                double[][] x1 = new double[t][C];
                for (int i = 0; i < t; i++) {
                    for (int c = 0; c < C; c++) {
                        x1[i][c] = tok[i][c] + p.get("gamma1")[c] * att[i][c];
                    }
                }
                double[][] ffn = channel(layerNorm(x1, "ln2."));
                for (int c = 0; c < C; c++) {
                    for (int i = 0; i < t; i++) {
                        out[(b * C + c) * t + i] = x1[i][c] + p.get("gamma2")[c] * ffn[i][c];
                    }
                }
            }
            return out;
        }

        /** d sum(forward(x) * g) / d x (key null) or / d the parameter key, by central differences. */
        double[] gradient(double[] x, double[] g, String key) {
            double[] v = key == null ? x : p.get(key);
            double[] grad = new double[v.length];
            double h = 1e-6;
            for (int i = 0; i < v.length; i++) {
                double keep = v[i];
                v[i] = keep + h;
                double up = dot(forward(x), g);
                v[i] = keep - h;
                double down = dot(forward(x), g);
                v[i] = keep;
                grad[i] = (up - down) / (2 * h);
            }
            return grad;
        }

        double[][] layerNorm(double[][] x, String prefix) {
            double[][] out = new double[x.length][C];
            for (int i = 0; i < x.length; i++) {
                double mean = 0;
                for (double v : x[i]) {
                    mean += v / C;
                }
                double var = 0;
                for (double v : x[i]) {
                    var += (v - mean) * (v - mean) / C;
                }
                for (int c = 0; c < C; c++) {
                    out[i][c] = (x[i][c] - mean) / Math.sqrt(var + 1e-5) * p.get(prefix + "weight")[c] + p.get(prefix + "bias")[c];
                }
            }
            return out;
        }

        /** The input of projection P (0 = k, 1 = v or r, ...) of the mixer at prefix. */
        double[][] shifted(double[][] x, String prefix, String projection) {
            int t = x.length;
            double[][] out = new double[t][C];
            if (shift == TokenShift.NONE) {
                return x;
            }
            if (shift == TokenShift.OMNI) {
                double[] a = p.get(prefix + "omni_shift.alpha");
                double[] w1 = p.get(prefix + "omni_shift.conv1x1.weight");
                double[] w3 = p.get(prefix + "omni_shift.conv3x3.weight");
                double[] w5 = p.get(prefix + "omni_shift.conv5x5.weight");
                for (int y = 0; y < H; y++) {
                    for (int xc = 0; xc < W; xc++) {
                        for (int c = 0; c < C; c++) {
                            double s = a[0] * x[y * W + xc][c] + a[1] * w1[c] * x[y * W + xc][c];
                            s += a[2] * depthwise(x, w3, 3, c, y, xc) + a[3] * depthwise(x, w5, 5, c, y, xc);
                            out[y * W + xc][c] = s;
                        }
                    }
                }
                return out;
            }
            double[][] xx = new double[t][C];
            int g = C / 4;
            for (int y = 0; y < H; y++) {
                for (int xc = 0; xc < W; xc++) {
                    int i = y * W + xc;
                    for (int c = 0; c < C; c++) {
                        if (shift == TokenShift.UNI) {
                            xx[i][c] = i > 0 ? x[i - 1][c] : 0;
                        } else if (c < g) {
                            xx[i][c] = xc > 0 ? x[i - 1][c] : 0; // from the left
                        } else if (c < 2 * g) {
                            xx[i][c] = xc < W - 1 ? x[i + 1][c] : 0; // from the right
                        } else if (c < 3 * g) {
                            xx[i][c] = y > 0 ? x[i - W][c] : 0; // from above
                        } else if (c < 4 * g) {
                            xx[i][c] = y < H - 1 ? x[i + W][c] : 0; // from below
                        } else {
                            xx[i][c] = x[i][c];
                        }
                    }
                }
            }
            double[] mix = p.get(prefix + shift.mixPrefix() + projection);
            for (int i = 0; i < t; i++) {
                for (int c = 0; c < C; c++) {
                    out[i][c] = x[i][c] * mix[c] + xx[i][c] * (1 - mix[c]);
                }
            }
            return out;
        }

        /** PyTorch's conv2d (cross-correlation), zero padding k/2, channel c's k x k kernel. */
        static double depthwise(double[][] x, double[] w, int k, int c, int y, int xc) {
            double s = 0;
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    int sy = y + i - k / 2;
                    int sx = xc + j - k / 2;
                    if (sy >= 0 && sy < H && sx >= 0 && sx < W) {
                        s += w[(c * k + i) * k + j] * x[sy * W + sx][c];
                    }
                }
            }
            return s;
        }

        double[][] spatial(double[][] x) {
            int t = x.length;
            double[][] k = linear(shifted(x, "att.", "k"), "att.key.weight", C);
            double[][] v = linear(shifted(x, "att.", "v"), "att.value.weight", C);
            double[][] r = linear(shifted(x, "att.", "r"), "att.receptance.weight", C);
            for (int j = 0; j < recurrence; j++) {
                // scan order: position q of the sequence holds token order[q]
                int[] order = new int[t];
                for (int q = 0; q < t; q++) {
                    order[q] = j % 2 == 0 ? q : (q % H) * W + q / H; // column-major: q = x*H + y
                }
                double[][] y = new double[t][C];
                for (int c = 0; c < C; c++) {
                    double w = p.get("att.spatial_decay")[j * C + c] / t;
                    double u = p.get("att.spatial_first")[j * C + c] / t;
                    for (int q = 0; q < t; q++) {
                        double num = Math.exp(u + k[order[q]][c]) * v[order[q]][c];
                        double den = Math.exp(u + k[order[q]][c]);
                        for (int i = 0; i < t; i++) {
                            if (i != q) {
                                double e = Math.exp(-(Math.abs(q - i) - 1) * w + k[order[i]][c]);
                                num += e * v[order[i]][c];
                                den += e;
                            }
                        }
                        y[order[q]][c] = num / den;
                    }
                }
                v = y;
            }
            double[][] gated = new double[t][C];
            for (int i = 0; i < t; i++) {
                for (int c = 0; c < C; c++) {
                    gated[i][c] = v[i][c] / (1 + Math.exp(-r[i][c]));
                }
            }
            return linear(gated, "att.output.weight", C);
        }

        double[][] channel(double[][] x) {
            double[][] k = linear(shifted(x, "ffn.", "k"), "ffn.key.weight", HIDDEN_RATE * C);
            for (double[] row : k) {
                for (int i = 0; i < row.length; i++) {
                    row[i] = Math.max(row[i], 0) * Math.max(row[i], 0);
                }
            }
            double[][] kv = linear(k, "ffn.value.weight", C);
            double[][] r = linear(shifted(x, "ffn.", "r"), "ffn.receptance.weight", C);
            for (int i = 0; i < kv.length; i++) {
                for (int c = 0; c < C; c++) {
                    kv[i][c] /= 1 + Math.exp(-r[i][c]);
                }
            }
            return kv;
        }

        /** x W^T with W (n, in) row-major. */
        double[][] linear(double[][] x, String key, int n) {
            double[] wt = p.get(key);
            int in = x[0].length;
            double[][] out = new double[x.length][n];
            for (int i = 0; i < x.length; i++) {
                for (int o = 0; o < n; o++) {
                    double s = 0;
                    for (int j = 0; j < in; j++) {
                        s += wt[o * in + j] * x[i][j];
                    }
                    out[i][o] = s;
                }
            }
            return out;
        }
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static double[] random(SplittableRandom r, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = r.nextDouble(-1, 1);
        }
        return d;
    }

    static float[] floats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    /** max |expected - actual| <= tol * max(1, max |expected|). */
    static void assertClose(String what, double[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 1;
        for (double v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]);
            if (!(d <= worst)) {
                worst = d;
                at = i;
            }
        }
        assertTrue(worst <= tol * scale, what + ": max |diff| " + worst + " at " + at + " (expected " + expected[Math.max(at, 0)]
                + ", got " + actual[Math.max(at, 0)] + "), allowed " + tol * scale);
    }
}
