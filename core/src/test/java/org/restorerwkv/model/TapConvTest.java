package org.restorerwkv.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * TapConv against libtorch's convolution in float64 (which never goes through oneDNN), forward and
 * all three gradients, at sizes where libtorch's float32 path would use oneDNN (batch > 1 or
 * large planes) and with channel counts that are not multiples of 16.
 */
class TapConvTest {

    @ParameterizedTest
    // cin x cout <= 256 trains grouped (12x12, 12x7, 1x16, 16x8, 16x1), above tap by tap (24x12, 32x16)
    @CsvSource({"2,12,12,3,64,64", "1,12,7,3,64,64", "4,1,16,3,40,24", "2,16,8,3,32,32", "3,24,12,1,20,36",
            "1,12,12,5,48,48", "4,16,1,3,40,40", "2,32,16,3,24,24"})
    void equalsTheFloat64ConvolutionForwardAndBackward(int b, int cin, int cout, int k, int h, int w) {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(7);
            NDArray x = m.randomUniform(-2, 2, new Shape(b, cin, h, w));
            NDArray wt = m.randomUniform(-1, 1, new Shape(cout, cin, k, k));
            NDArray bias = m.randomUniform(-1, 1, new Shape(cout));
            NDArray r = m.randomUniform(-1, 1, new Shape(b, cout, h, w));
            NDArray[] ref = run(x.toType(DataType.FLOAT64, true), wt.toType(DataType.FLOAT64, true),
                    bias.toType(DataType.FLOAT64, true), r.toType(DataType.FLOAT64, true), null, k);
            // the tap-by-tap cases both stacked (the default limit) and one product per tap (limit 0)
            for (long limit : new long[] {TapConv.STACKED_TRAINING_MAX_FLOATS, 0}) {
                NDArray[] ours = run(x, wt, bias, r, KernelLimits.DEFAULT.withStackedTrainingMaxFloats(limit), k);
                String[] names = {"y", "dx", "dw", "db"};
                for (int i = 0; i < 4; i++) {
                    assertCloseToFloat64("limit " + limit + ", " + names[i], ours[i], ref[i]);
                }
            }
        }
    }

    /**
     * Inference (no gradients): the stacked form in one band and in bands of one row, and the narrow
     * form (at most {@code NarrowConv.MAX_OUT} outputs), against float64.
     */
    @ParameterizedTest
    @CsvSource({"1,1,16,3,64,64", "2,16,8,3,32,40", "1,32,1,3,48,48", "3,12,7,5,24,20", "1,24,12,1,20,36",
            "2,5,3,3,21,37", "1,32,4,5,17,70", "2,3,1,1,9,19"})
    void inferenceFormsEqualTheFloat64Convolution(int b, int cin, int cout, int k, int h, int w) {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(11);
            NDArray x = m.randomUniform(-2, 2, new Shape(b, cin, h, w));
            NDArray wt = m.randomUniform(-1, 1, new Shape(cout, cin, k, k));
            NDArray bias = m.randomUniform(-1, 1, new Shape(cout));
            NDArray e = Conv2d.conv2d(x.toType(DataType.FLOAT64, true), wt.toType(DataType.FLOAT64, true),
                    bias.toType(DataType.FLOAT64, true), new Shape(1, 1), new Shape(k / 2, k / 2)).singletonOrThrow();
            for (long limit : new long[] {TapConv.IM2COL_MAX_FLOATS, 0}) {
                assertCloseToFloat64("limit " + limit,
                        TapConv.conv(x, wt, bias, k, KernelLimits.DEFAULT.withIm2colMaxFloats(limit)), e);
            }
        }
    }

    /** The depthwise convolutions Omni-Shift trains with stay on libtorch: guard that they are exact. */
    @ParameterizedTest
    @CsvSource({"2,12,1,64,64", "2,12,3,64,64", "4,16,5,40,24", "1,48,5,96,96"})
    void libtorchDepthwiseConvolutionIsExact(int b, int c, int k, int h, int w) {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            NDArray x = m.randomUniform(-2, 2, new Shape(b, c, h, w));
            NDArray wt = m.randomUniform(-1, 1, new Shape(c, 1, k, k));
            NDArray r = m.randomUniform(-1, 1, new Shape(b, c, h, w));
            NDArray[] ours = depthwise(x, wt, r, k);
            NDArray[] ref = depthwise(x.toType(DataType.FLOAT64, true), wt.toType(DataType.FLOAT64, true),
                    r.toType(DataType.FLOAT64, true), k);
            for (int i = 0; i < 3; i++) {
                assertCloseToFloat64("depthwise output/gradient " + i, ours[i], ref[i]);
            }
        }
    }

    private static NDArray[] depthwise(NDArray x, NDArray w, NDArray r, int k) {
        NDArray xx = x.duplicate();
        NDArray ww = w.duplicate();
        xx.setRequiresGradient(true);
        ww.setRequiresGradient(true);
        NDArray y;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            y = Conv2d.conv2d(xx, ww, null, new Shape(1, 1), new Shape(k / 2, k / 2), new Shape(1, 1),
                    (int) x.getShape().get(1)).singletonOrThrow();
            gc.backward(y.mul(r).sum());
        }
        return new NDArray[] {y, xx.getGradient(), ww.getGradient()};
    }

    /** y, dx, dw, db of libtorch's convolution ({@code limits} null) or of TapConv's with these limits. */
    private static NDArray[] run(NDArray x, NDArray w, NDArray b, NDArray r, KernelLimits limits, int k) {
        NDArray xx = x.duplicate();
        NDArray ww = w.duplicate();
        NDArray bb = b.duplicate();
        for (NDArray a : new NDArray[] {xx, ww, bb}) {
            a.setRequiresGradient(true);
        }
        NDArray y;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            y = limits == null
                    ? Conv2d.conv2d(xx, ww, bb, new Shape(1, 1), new Shape(k / 2, k / 2), new Shape(1, 1), 1).singletonOrThrow()
                    : TapConv.conv(xx, ww, bb, k, limits);
            gc.backward(y.mul(r).sum());
        }
        return new NDArray[] {y, xx.getGradient(), ww.getGradient(), bb.getGradient()};
    }

    /** max |ours - reference| within 1e-5 of the reference's largest magnitude (at least 1). */
    private static void assertCloseToFloat64(String what, NDArray ours, NDArray reference) {
        float[] a = ours.toFloatArray();
        float[] e = reference.toType(DataType.FLOAT32, true).toFloatArray();
        double scale = 1;
        double d = 0;
        for (int j = 0; j < a.length; j++) {
            scale = Math.max(scale, Math.abs(e[j]));
            d = Math.max(d, Math.abs(a[j] - e[j]));
        }
        assertTrue(d <= 1e-5 * scale, what + ": max |diff| " + d + " (scale " + scale + ")");
    }
}
