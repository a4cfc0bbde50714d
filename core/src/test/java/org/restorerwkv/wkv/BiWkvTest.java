package org.restorerwkv.wkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.DataInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.TestResources;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.Npy;

/** Bi-WKV against the reference's float64 definition (shared/parity/wkv), both implementations. */
class BiWkvTest {

    private static Map<String, HostTensor> load(int i) throws Exception {
        return Npy.readNpz(TestResources.path("parity/wkv/case" + i + ".npz"));
    }

    /** max |a-b| <= tol * max(1, max|b|). */
    static void assertClose(String what, float[] actual, float[] expected, double tol) {
        assertEquals(expected.length, actual.length, what + " length");
        double maxAbs = 1;
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Float.isFinite(actual[i]), what + " has a non-finite value at " + i);
            maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
            maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
        }
        assertTrue(maxDiff <= tol * maxAbs, what + ": max |diff| " + maxDiff + " > " + tol * maxAbs);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3})
    void differentiableMatchesValuesAndAllFourGradients(int c) throws Exception {
        Map<String, HostTensor> d = load(c);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = nd(m, d.get("w"));
            NDArray u = nd(m, d.get("u"));
            NDArray k = nd(m, d.get("k"));
            NDArray v = nd(m, d.get("v"));
            for (NDArray a : new NDArray[] {w, u, k, v}) {
                a.setRequiresGradient(true);
            }
            NDArray y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                y = BiWkv.differentiable(w, u, k, v);
                gc.backward(y.mul(nd(m, d.get("gy"))).sum());
            }
            assertClose("case" + c + " y", y.toFloatArray(), d.get("y").data(), 1e-5);
            assertClose("case" + c + " gw", w.getGradient().toFloatArray(), d.get("gw").data(), 1e-4);
            assertClose("case" + c + " gu", u.getGradient().toFloatArray(), d.get("gu").data(), 1e-4);
            assertClose("case" + c + " gk", k.getGradient().toFloatArray(), d.get("gk").data(), 1e-4);
            assertClose("case" + c + " gv", v.getGradient().toFloatArray(), d.get("gv").data(), 1e-4);
        }
    }

    @ParameterizedTest
    // 100 tokens: a full chunk of 64 and a padded one; 64: exactly one chunk; 3 x 70: several batch items
    @CsvSource({"1,100,3", "1,64,2", "3,70,4"})
    void differentiableValuesAndGradientsEqualTheDefinitionAcrossChunks(int bsz, int len, int ch) {
        // the definition with a T x T weight matrix per channel, in float64, through autograd
        SplittableRandom r = new SplittableRandom(len * 7 + ch);
        float[] kf = random(r, bsz * len * ch, 3);
        float[] vf = random(r, bsz * len * ch, 1);
        float[] wf = random(r, ch, 6f / len);
        float[] uf = random(r, ch, 2f / len);
        Shape s = new Shape(bsz, len, ch);
        float[][] got = new float[5][];
        float[][] want = new float[5][];
        for (int impl = 0; impl < 2; impl++) {
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray w = m.create(wf);
                NDArray u = m.create(uf);
                NDArray k = m.create(kf, s);
                NDArray v = m.create(vf, s);
                for (NDArray a : new NDArray[] {w, u, k, v}) {
                    a.setRequiresGradient(true);
                }
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray y = impl == 0 ? BiWkv.differentiable(w, u, k, v) : definition(m, w, u, k, v, len);
                    gc.backward(y.mul(y).sum());
                    float[][] out = impl == 0 ? got : want;
                    out[0] = y.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
                }
                float[][] out = impl == 0 ? got : want;
                out[1] = w.getGradient().toFloatArray();
                out[2] = u.getGradient().toFloatArray();
                out[3] = k.getGradient().toFloatArray();
                out[4] = v.getGradient().toFloatArray();
            }
        }
        String[] names = {"y", "gw", "gu", "gk", "gv"};
        for (int i = 0; i < 5; i++) {
            assertClose(names[i], got[i], want[i], 1e-4);
        }
    }

    /** y_t = (sum_{i != t} d^(|t-i|-1) e^k_i v_i + e^(u+k_t) v_t) / (the same with v = 1), d = e^-w, in float64. */
    private static NDArray definition(NDManager m, NDArray w, NDArray u, NDArray k, NDArray v, int len) {
        ai.djl.ndarray.types.DataType f64 = ai.djl.ndarray.types.DataType.FLOAT64;
        NDArray one = m.ones(new Shape(1), f64);
        NDArray idx = m.arange(0, len, 1, f64);
        NDArray dist = idx.reshape(len, 1).sub(idx.reshape(1, len)).abs(); // (T, T)
        NDArray eye = m.eye(len).toType(f64, false);
        long ch = w.getShape().get(0);
        NDArray wc = w.mul(one).reshape(ch, 1, 1);
        NDArray weight = wc.neg().mul(dist.sub(1)).exp().mul(eye.neg().add(1)).add(u.mul(one).reshape(ch, 1, 1).exp().mul(eye));
        NDArray ek = k.mul(one).exp().transpose(2, 1, 0); // (C, T, B)
        NDArray num = weight.matMul(ek.mul(v.mul(one).transpose(2, 1, 0)));
        NDArray den = weight.matMul(ek);
        return num.div(den).transpose(2, 1, 0);
    }

    @Test
    void testsRunTheVectorKernel() {
        // surefire adds the module: the SIMD kernel is the one users get, so it must be the one tested
        assertTrue(BiWkv.simd(), "jdk.incubator.vector missing: the SIMD Bi-WKV would go untested");
    }

    @Test
    void runsWithoutTheVectorModule(@TempDir Path tmp) throws Exception {
        // a library user's JVM without --add-modules jdk.incubator.vector gets the scalar kernel, not a
        // NoClassDefFoundError from the SIMD one
        Path file = tmp.resolve("y.bin");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), NoVectorModuleMain.class.getName(), file.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), log);
        float[][] in = NoVectorModuleMain.inputs();
        float[] expected = new float[in[2].length];
        BiWkv.fused(false, in[0], in[1], in[2], in[3], expected, NoVectorModuleMain.B, NoVectorModuleMain.H,
                NoVectorModuleMain.W, NoVectorModuleMain.C, true);
        float[] y = new float[expected.length];
        try (DataInputStream d = new DataInputStream(Files.newInputStream(file))) {
            for (int i = 0; i < y.length; i++) {
                y[i] = d.readFloat();
            }
        }
        assertClose("no vector module", y, expected, 1e-6);
    }

    /** The fused backward: all four gradients of the reference cases, from the fused forward's y. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3})
    void fusedBackwardMatchesAllFourGradients(int c) throws Exception {
        Map<String, HostTensor> d = load(c);
        long[] s = d.get("k").shape();
        int bsz = (int) s[0];
        int len = (int) s[1];
        int ch = (int) s[2];
        float[] w = d.get("w").data();
        float[] u = d.get("u").data();
        float[] k = d.get("k").data();
        float[] v = d.get("v").data();
        float[] y = new float[k.length];
        BiWkv.fused(w, u, k, v, y, bsz, 1, len, ch, false);
        float[] gk = new float[k.length];
        float[] gv = new float[k.length];
        double[] gw = new double[ch];
        double[] gu = new double[ch];
        BiWkv.fusedBackward(w, u, k, v, y, d.get("gy").data(), gk, gv, gw, gu, bsz, 1, len, ch, false);
        assertClose("case" + c + " gw", toFloat(gw), d.get("gw").data(), 1e-4);
        assertClose("case" + c + " gu", toFloat(gu), d.get("gu").data(), 1e-4);
        assertClose("case" + c + " gk", gk, d.get("gk").data(), 1e-4);
        assertClose("case" + c + " gv", gv, d.get("gv").data(), 1e-4);
    }

    /**
     * The fused backward against autograd through the differentiable form: a column-major scan of a
     * 37 x 53 grid (several channel blocks, the last partial), and decays and keys at the required
     * extremes (|spatial_decay| 100, |k| 50), where the differentiable form runs in float64.
     */
    @ParameterizedTest
    @CsvSource({"2,37,53,11,3,4,true", "1,1,4096,4,100,50,false", "1,1,64,4,100,50,false"})
    void fusedBackwardEqualsAutogradOfTheDifferentiableForm(int b, int h, int w, int ch, double decay, double key,
                                                            boolean columnMajor) {
        int len = h * w;
        SplittableRandom r = new SplittableRandom(5);
        float[] k = random(r, b * len * ch, key);
        float[] v = random(r, b * len * ch, 1);
        float[] gy = random(r, b * len * ch, 1);
        float[] wd = random(r, ch, decay / len);
        float[] ud = random(r, ch, decay / len);
        float[] y = new float[k.length];
        BiWkv.fused(wd, ud, k, v, y, b, h, w, ch, columnMajor);
        float[] gk = new float[k.length];
        float[] gv = new float[k.length];
        double[] gw = new double[ch];
        double[] gu = new double[ch];
        BiWkv.fusedBackward(wd, ud, k, v, y, gy, gk, gv, gw, gu, b, h, w, ch, columnMajor);
        try (NDManager m = NDManager.newBaseManager()) {
            Shape s = new Shape(b, len, ch);
            NDArray wa = m.create(toDouble(wd));
            NDArray ua = m.create(toDouble(ud));
            NDArray ka = m.create(toDouble(k), s);
            NDArray va = m.create(toDouble(v), s);
            for (NDArray a : new NDArray[] {wa, ua, ka, va}) {
                a.setRequiresGradient(true);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray kk = ka;
                NDArray vv = va;
                if (columnMajor) { // the scan order of the fused kernel, as SpatialMix's colMajor
                    kk = ka.reshape(b, h, w, ch).transpose(0, 2, 1, 3).reshape(s);
                    vv = va.reshape(b, h, w, ch).transpose(0, 2, 1, 3).reshape(s);
                }
                NDArray yy = BiWkv.differentiable(wa, ua, kk, vv);
                if (columnMajor) {
                    yy = yy.reshape(b, w, h, ch).transpose(0, 2, 1, 3).reshape(s);
                }
                gc.backward(yy.mul(m.create(toDouble(gy), s)).sum());
            }
            assertClose("gw", toFloat(gw), toFloat(wa.getGradient().toDoubleArray()), 1e-5);
            assertClose("gu", toFloat(gu), toFloat(ua.getGradient().toDoubleArray()), 1e-5);
            assertClose("gk", gk, toFloat(ka.getGradient().toDoubleArray()), 1e-5);
            assertClose("gv", gv, toFloat(va.getGradient().toDoubleArray()), 1e-5);
        }
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    @ParameterizedTest
    @CsvSource({"0,true", "1,true", "2,true", "3,true", "0,false", "1,false", "2,false", "3,false"})
    void fusedKernelMatchesValues(int c, boolean simd) throws Exception {
        Map<String, HostTensor> d = load(c);
        long[] s = d.get("k").shape();
        int bsz = (int) s[0];
        int len = (int) s[1];
        int ch = (int) s[2];
        float[] y = new float[bsz * len * ch];
        // a 1 x T grid: the row-major scan is the sequence order
        BiWkv.fused(simd, d.get("w").data(), d.get("u").data(), d.get("k").data(), d.get("v").data(), y, bsz, 1, len, ch,
                false);
        assertClose("case" + c + " fused y", y, d.get("y").data(), 1e-5);
    }

    @ParameterizedTest
    @CsvSource({"2,5,7,11,true", "2,5,7,11,false", "2,37,53,11,true", "1,64,64,48,true"})
    void fusedColumnMajorScanEqualsDifferentiableOnTransposedTokens(int b, int h, int w, int ch, boolean simd) {
        // 37x53 tokens with 11 channels: several scan chunks, the last one partial, padded lanes
        SplittableRandom r = new SplittableRandom(3);
        float[] k = random(r, b * h * w * ch, 4);
        float[] v = random(r, b * h * w * ch, 1);
        float[] wd = random(r, ch, 30f / (h * w));
        float[] ud = random(r, ch, 3f / (h * w));
        float[] y = new float[k.length];
        BiWkv.fused(simd, wd, ud, k, v, y, b, h, w, ch, true);
        try (NDManager m = NDManager.newBaseManager()) {
            Shape s = new Shape(b, h * w, ch);
            NDArray kk = m.create(k, s).reshape(b, h, w, ch).transpose(0, 2, 1, 3).reshape(s);
            NDArray vv = m.create(v, s).reshape(b, h, w, ch).transpose(0, 2, 1, 3).reshape(s);
            NDArray ref = BiWkv.differentiable(m.create(wd), m.create(ud), kk, vv)
                    .reshape(b, w, h, ch).transpose(0, 2, 1, 3).reshape(s);
            assertClose("column-major", y, ref.toFloatArray(), 1e-5);
        }
    }

    @ParameterizedTest
    // 4096 tokens: decay over one SIMD chunk stays small, so exp(k - max) is kept from step 1 to step 3;
    // 64 tokens: decay of e^100 over the chunk, so step 3 recomputes it in float64
    @CsvSource({"true,4096", "false,4096", "true,64", "false,64"})
    void bothStayFiniteForExtremeDecaysAndKeys(boolean simd, int len) {
        int ch = 4;
        SplittableRandom r = new SplittableRandom(9);
        float[] k = random(r, len * ch, 50);
        float[] v = random(r, len * ch, 1);
        float[] w = {100f / len, -100f / len, 60f / len, -60f / len};
        float[] u = {100f / len, -100f / len, 0, 1};
        float[] y = new float[k.length];
        BiWkv.fused(simd, w, u, k, v, y, 1, 1, len, ch, false);
        try (NDManager m = NDManager.newBaseManager()) {
            Shape s = new Shape(1, len, ch);
            float[] yd = BiWkv.differentiable(m.create(w), m.create(u), m.create(k, s), m.create(v, s)).toFloatArray();
            assertClose("extreme", y, yd, 1e-4);
        }
    }

    /**
     * The float-lane path (decay over 1024 tokens e^2) with one stretch of tokens whose keys sit 90
     * below another's (its carries, at its own scale, pass float's range) and, second, one whose |v|
     * is near float's maximum (its sums would overflow in float): those chunks must go to the float64
     * code, every output finite and within 1e-5 (relative) of a float64 reference. With 48 channels
     * the extremes sit in one vector of channels only, not the first.
     */
    @ParameterizedTest
    @CsvSource({"keys,16,0,16", "values,16,0,16", "values,48,16,32", "keys,48,32,48", "values,48,32,48"})
    void floatLanesFallBackPerChunkOutsideTheirRange(String extreme, int ch, int c0, int c1) {
        org.junit.jupiter.api.Assumptions.assumeTrue(BiWkv.simd());
        int len = 4096;
        SplittableRandom r = new SplittableRandom(11);
        float[] k = random(r, len * ch, 2);
        float[] v = random(r, len * ch, 1);
        for (int t = 0; t < 1024; t++) {
            for (int c = c0; c < c1; c++) {
                int i = t * ch + c;
                if (extreme.equals("keys")) {
                    k[i] += 45; // tokens 0-1023 high ...
                    k[i + 2048 * ch] -= 45; // ... 2048-3071 low: e^90 between them
                } else {
                    v[i + 3072 * ch] = (float) (1e36 * (1.5 + v[i + 3072 * ch] / 4)); // tokens 3072-4095, same sign
                }
            }
        }
        float[] w = random(r, ch, 8.0 / len);
        float[] u = random(r, ch, 4.0 / len);
        float[] y = new float[k.length];
        BiWkv.fused(true, w, u, k, v, y, 1, 1, len, ch, false);
        try (NDManager m = NDManager.newBaseManager()) {
            Shape s = new Shape(1, len, ch);
            double[] yd = BiWkv.differentiable(m.create(toDouble(w)), m.create(toDouble(u)),
                    m.create(toDouble(k), s), m.create(toDouble(v), s)).toDoubleArray();
            for (int i = 0; i < y.length; i++) {
                double tol = 1e-5 * Math.max(1, Math.abs(yd[i]));
                assertTrue(Math.abs(y[i] - yd[i]) <= tol, extreme + ": y[" + i + "] = " + y[i] + ", float64 " + yd[i]);
            }
        }
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    private static float[] random(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    @Test
    void expInPlaceMatchesMathExpAndItsVectorAndScalarLoopsAgreeBitForBit() {
        SplittableRandom rnd = new SplittableRandom(17);
        int n = 8 * 37 + 5; // whole vectors for the vector loop on any width, and a scalar tail
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i < 6 ? new double[] {0, -0.0, -708, -1e-300, -0.5 * Math.log(2), -707.9}[i] : -rnd.nextDouble(0, 708);
        }
        double[] all = x.clone();
        FastExp.expInPlace(all, n);
        for (int i = 0; i < n; i++) {
            double[] one = {x[i]};
            FastExp.expInPlace(one, 1); // below one vector: the scalar loop
            assertEquals(Double.doubleToLongBits(one[0]), Double.doubleToLongBits(all[i]), "element " + i + ": " + x[i]);
            double want = Math.exp(x[i]);
            assertTrue(Math.abs(all[i] - want) <= 1e-14 * want, x[i] + ": " + all[i] + " vs " + want);
        }
    }

    static NDArray nd(NDManager m, HostTensor t) {
        return m.create(t.data(), new Shape(t.shape()));
    }
}
