package org.restorerwkv.wkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TokenLinearTest {

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }

    /** x W^T from the definition, in double. */
    private static double dot(float[] x, int row, int k, float[] w, int col) {
        double s = 0;
        for (int i = 0; i < k; i++) {
            s += (double) x[row * k + i] * w[col * k + i];
        }
        return s;
    }

    @ParameterizedTest
    // rows not a multiple of 4 or of the 256-row block; N with and without whole vectors
    @CsvSource({"16,48,515,true", "16,48,515,false", "11,37,9,true", "64,16,300,true", "5,3,2,true", "128,512,7,true",
            "24,119,13,true", // 119 on 16 lanes: four vectors, two, one and a scalar tail of 7
            "144,8,21,true", "432,24,9,true"}) // the models' first downsampling: 8 and 24 outputs
    void linearIsXTimesTheTransposedTorchWeight(int k, int n, int rows, boolean simd) {
        SplittableRandom r = new SplittableRandom(k * 31 + n);
        float[] x = random(r, rows * k);
        float[] w = random(r, n * k); // torch layout (N, K)
        float[] out = new float[rows * n];
        TokenLinear.linear(simd, x, TokenLinear.transpose(w, n, k), k, n, out, rows);
        for (int row = 0; row < rows; row++) {
            for (int col = 0; col < n; col++) {
                assertEquals(dot(x, row, k, w, col), out[row * n + col], 1e-4, "row " + row + ", column " + col);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"16,64,300", "6,12,5"})
    void squaredReluMlpIsValueOfSquaredReluOfKey(int c, int hidden, int rows) {
        SplittableRandom r = new SplittableRandom(c + hidden);
        float[] x = random(r, rows * c);
        float[] wk = random(r, hidden * c); // (4C, C)
        float[] wv = random(r, c * hidden); // (C, 4C)
        float[] out = new float[rows * c];
        TokenLinear.squaredReluMlp(x, TokenLinear.transpose(wk, hidden, c), TokenLinear.transpose(wv, c, hidden), c, hidden,
                out, rows);
        for (int row = 0; row < rows; row++) {
            double[] h = new double[hidden];
            for (int j = 0; j < hidden; j++) {
                double a = Math.max(0, dot(x, row, c, wk, j));
                h[j] = a * a;
            }
            for (int col = 0; col < c; col++) {
                double s = 0;
                for (int j = 0; j < hidden; j++) {
                    s += h[j] * wv[col * hidden + j];
                }
                assertEquals(s, out[row * c + col], 1e-3 * Math.max(1, Math.abs(s)), "row " + row + ", column " + col);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"4,3,5", "3,3,5"})
    void refusesInconsistentSizes(int k, int wtRows, int n) {
        float[] x = new float[8 * 4];
        float[] out = new float[8 * n];
        assertThrows(IllegalArgumentException.class, () -> TokenLinear.linear(x, new float[wtRows * n + 1], k, n, out, 8));
        assertThrows(IllegalArgumentException.class, () -> TokenLinear.linear(x, new float[k * n], k, n, x, 8));
    }
}
