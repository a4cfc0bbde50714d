package org.restorerwkv.wkv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OmniShiftKernelTest {

    @ParameterizedTest
    // 7x4x3: an image narrower than the kernel, every border case; 9x70x16, 6x50x48, 6x50x19: several
    // pixel blocks per row
    @CsvSource({"2,7,4,3", "1,9,70,16", "1,6,50,48", "1,6,50,19"})
    void equalsTheDepthwiseConvolutionDefinitionWithZeroPadding(int b, int h, int w, int ch) {
        SplittableRandom r = new SplittableRandom(1);
        float[] img = new float[b * h * w * ch];
        float[] weight = new float[ch * 25]; // (C, 1, 5, 5)
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) r.nextDouble(-1, 1);
        }
        for (int i = 0; i < weight.length; i++) {
            weight[i] = (float) r.nextDouble(-1, 1);
        }
        float[] out = new float[img.length];
        OmniShiftKernel.apply(img, OmniShiftKernel.tapMajor(weight, ch), out, b, h, w, ch);
        for (int n = 0; n < b; n++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int c = 0; c < ch; c++) {
                        double s = 0;
                        for (int i = 0; i < 5; i++) {
                            for (int j = 0; j < 5; j++) {
                                int sy = y + i - 2, sx = x + j - 2;
                                if (sy >= 0 && sy < h && sx >= 0 && sx < w) {
                                    s += weight[c * 25 + i * 5 + j] * img[((n * h + sy) * w + sx) * ch + c];
                                }
                            }
                        }
                        assertEquals(s, out[((n * h + y) * w + x) * ch + c], 1e-5);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    // channel counts of the models (16, 32, 48), images narrower than a strip of four interior pixels
    // (5, 6 wide), one row, and strips with a remainder
    @CsvSource({"1,9,70,16", "2,7,5,32", "1,1,6,48", "1,5,11,16", "1,12,33,48"})
    void vectorFormEqualsTheScalarForm(int b, int h, int w, int ch) {
        org.junit.jupiter.api.Assumptions.assumeTrue(VectorSupport.AVAILABLE && ch % OmniShiftKernel.simdLanes() == 0);
        SplittableRandom r = new SplittableRandom(2);
        float[] img = new float[b * h * w * ch];
        float[] weight = new float[ch * 25];
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) r.nextDouble(-1, 1);
        }
        for (int i = 0; i < weight.length; i++) {
            weight[i] = (float) r.nextDouble(-1, 1);
        }
        float[] taps = OmniShiftKernel.tapMajor(weight, ch);
        float[] scalar = new float[img.length];
        float[] simd = new float[img.length];
        OmniShiftKernel.apply(false, img, taps, scalar, b, h, w, ch);
        OmniShiftKernel.apply(true, img, taps, simd, b, h, w, ch);
        // the same sums in the same order, fused (one rounding per tap) against multiply-then-add:
        // 25 terms of at most 1 in magnitude differ by at most a few float ulps of 25
        for (int i = 0; i < img.length; i++) {
            assertEquals(scalar[i], simd[i], 1e-5f, "element " + i);
        }
    }
}
