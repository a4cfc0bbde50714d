package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

/**
 * What SpatialMix and ChannelMix share: both mix LayerNorm'd tokens (B, T = H*W, C) after an
 * Omni-Shift; as a stand-alone block each maps an image (B, C, H, W) to an image of the same shape.
 */
abstract class TokenMixer extends Module implements DerivedWeights {

    /** Sizes that choose between equivalent code paths ({@link KernelLimits#apply}). */
    KernelLimits limits = KernelLimits.DEFAULT;

    /** x: tokens (B, T = h*w, C) -> (B, T, C). */
    abstract NDArray forwardTokens(ParameterStore ps, NDArray x, long h, long w, boolean training);

    abstract OmniShift omniShift();

    /** Host copies of the weights for the inference fast path. */
    final HostWeights host = new HostWeights();

    @Override
    public void weightsChanged() {
        host.clear();
    }

    @Override
    final NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        Shape s = x.getShape();
        return image(forwardTokens(ps, tokens(x), s.get(2), s.get(3), training), s.get(2), s.get(3));
    }

    @Override
    public final Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
