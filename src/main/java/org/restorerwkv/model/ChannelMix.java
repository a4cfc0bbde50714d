package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;

/** Channel mix on tokens (B, T, C): s = OmniShift(x); out = sigmoid(s Wr^T) * (relu(s Wk^T)^2 Wv^T). */
public final class ChannelMix extends Module {

    private final Linear key;
    private final OmniShift omniShift;
    private final Linear receptance;
    private final Linear value;

    public ChannelMix(int channels, int hiddenRate) {
        int hidden = hiddenRate * channels;
        key = child("key", Layers.linear(channels, hidden), Layers.tokens(channels));
        omniShift = child("omni_shift", new OmniShift(channels), Layers.image(channels));
        receptance = child("receptance", Layers.linear(channels, channels), Layers.tokens(channels));
        value = child("value", Layers.linear(hidden, channels), Layers.tokens(hidden));
    }

    NDArray forwardTokens(ParameterStore ps, NDArray x, long h, long w, boolean training) {
        NDArray s = tokens(omniShift.forward(ps, image(x, h, w), training)); // (B,T,C)
        NDArray k = Activation.relu(run(key, ps, s, training)); // (B,T,4C)
        NDArray kv = run(value, ps, k.mul(k), training); // (B,T,C)
        return Activation.sigmoid(run(receptance, ps, s, training)).mul(kv);
    }

    @Override
    NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        Shape s = x.getShape();
        return image(forwardTokens(ps, tokens(x), s.get(2), s.get(3), training), s.get(2), s.get(3));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    OmniShift omniShift() {
        return omniShift;
    }
}
