package org.restorerwkv.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;

/**
 * DJL's depthwise Conv2d and Linear, built as the reference's nn.Conv2d / nn.Linear (stride 1, zero
 * padding). Dense convolutions are {@link TapConv}.
 */
final class Layers {

    private Layers() {}

    /** nn.Conv2d(in, out, k, padding=k/2, groups, bias): weight (out, in/groups, k, k). */
    private static Conv2d conv(int in, int out, int kernel, int groups, boolean bias) {
        Conv2d c = Conv2d.builder()
                .setKernelShape(new Shape(kernel, kernel))
                .setFilters(out)
                .optPadding(new Shape(kernel / 2, kernel / 2))
                .optGroups(groups)
                .optBias(bias)
                .build();
        return explicitShapes(c, new Shape(out, in / groups, kernel, kernel), bias ? out : 0);
    }

    /** Depthwise nn.Conv2d(c, c, k, padding=k/2, groups=c, bias=False). */
    static Conv2d depthwise(int channels, int kernel) {
        return conv(channels, channels, kernel, channels, false);
    }

    /** nn.Linear(in, out, bias=False): weight (out, in), applied to the last axis. */
    static Linear linear(int in, int out) {
        Linear l = Linear.builder().setUnits(out).optBias(false).build();
        return explicitShapes(l, new Shape(out, in), 0);
    }

    /**
     * Gives the weight (and bias) their shapes now, as DJL would only on seeing an input: the
     * model's parameters can be counted and matched against a checkpoint before allocation.
     */
    private static <B extends ai.djl.nn.Block> B explicitShapes(B block, Shape weight, long bias) {
        block.getParameters().get("weight").setShape(weight);
        if (bias > 0) {
            block.getParameters().get("bias").setShape(new Shape(bias));
        }
        return TorchInit.init(block, weight);
    }

    /** An NCHW input shape for initializing a block with C channels (spatial size is irrelevant). */
    static Shape image(long channels) {
        return new Shape(new long[] {1, channels, 8, 8}, "NCHW");
    }

    /** A (B, T, C) token shape for initializing a block with C channels. */
    static Shape tokens(long channels) {
        return new Shape(1, 64, channels);
    }
}
