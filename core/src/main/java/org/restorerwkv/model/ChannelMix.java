package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import org.restorerwkv.wkv.OmniShiftKernel;
import org.restorerwkv.wkv.TokenLinear;
import org.restorerwkv.wkv.TokenOps;

/** Channel mix on tokens (B, T, C): s = OmniShift(x); out = sigmoid(s Wr^T) * (relu(s Wk^T)^2 Wv^T). */
final class ChannelMix extends TokenMixer {

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

    @Override
    NDArray forwardTokens(ParameterStore ps, NDArray x, long h, long w, boolean training) {
        NDArray s = tokens(omniShift.forward(ps, image(x, h, w), training)); // (B,T,C)
        NDArray k = Activation.relu(run(key, ps, s, training)); // (B,T,4C)
        NDArray kv = run(value, ps, k.mul(k), training); // (B,T,C)
        return Activation.sigmoid(run(receptance, ps, s, training)).mul(kv);
    }

    /**
     * Inference fast path on channels-last tokens x (B*h*w, C), in place:
     * {@code x += gamma * ChannelMix(LayerNorm(x))}; the hidden activation (4C per row) exists a block
     * of rows at a time ({@link TokenLinear#squaredReluMlp}, or libtorch row chunks for wide layers),
     * gate and residual are one Java pass.
     */
    void forwardFast(float[] x, float[] gamma, TokenLayerNorm ln, int bsz, int h, int w, NDManager manager) {
        HostBuffers hb = HostBuffers.get();
        int rows = bsz * h * w;
        int c = omniShift.channels();
        float[] normed = hb.floats("normed", (long) rows * c);
        ln.forwardFast(x, normed, rows);
        float[] shifted = hb.floats("shifted", (long) rows * c);
        OmniShiftKernel.apply(normed, omniShift.taps(), shifted, bsz, h, w, c);
        float[] kv = hb.floats("out", (long) rows * c);
        float[] r = normed; // dead after the shift: the receptance reuses it (one image-sized buffer less)
        NDArray wk = SpatialMix.weight(key);
        NDArray wv = SpatialMix.weight(value);
        int hidden = (int) wk.getShape().get(0); // 4C
        if (TokenLinear.preferred(c, hidden)) {
            TokenLinear.squaredReluMlp(shifted, host.get("key", () -> TokenLinear.transpose(wk.toFloatArray(), hidden, c)),
                    host.get("value", () -> TokenLinear.transpose(wv.toFloatArray(), c, hidden)), c, hidden, kv, rows);
        } else {
            hb.chunked(shifted, c, kv, c, rows, hidden, limits.chunkFloats(), manager, s -> {
                NDArray k = Activation.relu(Linear.linear(s, wk).singletonOrThrow()); // (n, 4C)
                return Linear.linear(k.muli(k), wv).singletonOrThrow();
            });
        }
        SpatialMix.project(hb, host, "receptance", shifted, c, () -> SpatialMix.weight(receptance), r, c, rows, limits, manager);
        TokenOps.gatedResidual(x, gamma, r, kv, rows, c);
    }

    @Override
    OmniShift omniShift() {
        return omniShift;
    }
}
