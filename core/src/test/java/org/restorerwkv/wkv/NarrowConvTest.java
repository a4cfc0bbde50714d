package org.restorerwkv.wkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NarrowConvTest {

    /** The definition, in float64: sum over channels and taps inside the image, plus the bias. */
    private static double[] reference(float[] x, int b, int cin, int h, int w, float[] wt, float[] bias, int cout, int k) {
        double[] out = new double[b * cout * h * w];
        int p = k / 2;
        for (int n = 0; n < b; n++) {
            for (int o = 0; o < cout; o++) {
                for (int y = 0; y < h; y++) {
                    for (int xx = 0; xx < w; xx++) {
                        double s = bias == null ? 0 : bias[o];
                        for (int c = 0; c < cin; c++) {
                            for (int dy = 0; dy < k; dy++) {
                                for (int dx = 0; dx < k; dx++) {
                                    int sy = y + dy - p;
                                    int sx = xx + dx - p;
                                    if (sy >= 0 && sy < h && sx >= 0 && sx < w) {
                                        s += (double) wt[((o * cin + c) * k + dy) * k + dx] * x[((n * cin + c) * h + sy) * w + sx];
                                    }
                                }
                            }
                        }
                        out[((n * cout + o) * h + y) * w + xx] = s;
                    }
                }
            }
        }
        return out;
    }

    @ParameterizedTest
    // widths below, at and beyond a vector, odd sizes, 1x1 / 3x3 / 5x5, with and without bias
    @CsvSource({"1,32,1,3,48,48,true", "2,5,3,3,7,37,false", "1,4,2,5,17,70,true", "3,2,1,1,9,19,true", "1,1,1,3,1,1,true"})
    void equalsTheDefinitionAndTheVectorLoopEqualsThePlainOne(int b, int cin, int cout, int k, int h, int w, boolean withBias) {
        SplittableRandom r = new SplittableRandom(cin * 7 + k);
        float[] x = new float[b * cin * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble(-2, 2);
        }
        float[] wt = new float[cout * cin * k * k];
        for (int i = 0; i < wt.length; i++) {
            wt[i] = (float) r.nextDouble(-1, 1);
        }
        float[] bias = withBias ? java.util.Arrays.copyOf(new float[] {0.5f, -0.25f, 1f}, cout) : null;
        double[] want = reference(x, b, cin, h, w, wt, bias, cout, k);
        float[] plain = new float[want.length];
        float[] simd = new float[want.length];
        NarrowConv.conv(false, x, b, cin, h, w, wt, bias, cout, k, plain);
        NarrowConv.conv(true, x, b, cin, h, w, wt, bias, cout, k, simd);
        assertArrayEquals(plain, simd, "the vector loop does the plain loop's arithmetic");
        double scale = 1;
        double d = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            d = Math.max(d, Math.abs(plain[i] - want[i]));
        }
        assertTrue(d <= 1e-5 * scale, "max |diff| " + d);
    }

    @ParameterizedTest
    @CsvSource({"2", "4"})
    void inconsistentSizesAreRefused(int k) {
        float[] x = new float[2 * 3 * 3];
        assertThrows(IllegalArgumentException.class,
                () -> NarrowConv.conv(x, 1, 2, 3, 3, new float[2 * k * k], null, 1, k, new float[9]));
    }
}
