package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import org.restorerwkv.wkv.TokenLinear;
import org.restorerwkv.wkv.TokenOps;

/**
 * Channel mix on tokens (B, T, C): s = OmniShift(x); out = sigmoid(s Wr^T) * (relu(s Wk^T)^2 Wv^T).
 * With another {@link TokenShift}, k and r read their own inputs (see {@link TokenMixer}).
 */
final class ChannelMix extends TokenMixer {

    private final Linear key;
    private final Linear receptance;
    private final Linear value;

    public ChannelMix(int channels, int hiddenRate) {
        this(channels, hiddenRate, TokenShift.OMNI, 0, 1);
    }

    /** layer of layers: the block's place in its stage, for Quad/Uni's initial mixes. */
    ChannelMix(int channels, int hiddenRate, TokenShift shift, int layer, int layers) {
        super(shift, channels);
        int hidden = hiddenRate * channels;
        key = child("key", Layers.linear(channels, hidden), Layers.tokens(channels));
        // Vision-RWKV's fancy init of spatial_mix_k and _r
        addShift(new String[] {"k", "r"}, new double[] {1, 1}, new double[] {0, 0}, layer, layers);
        receptance = child("receptance", Layers.linear(channels, channels), Layers.tokens(channels));
        value = child("value", Layers.linear(hidden, channels), Layers.tokens(hidden));
    }

    @Override
    NDArray forwardTokens(ParameterStore ps, NDArray x, long h, long w, boolean training) {
        NDArray[] s = projectionInputs(ps, x, h, w, training, 2); // (B,T,C) each
        NDArray k = Activation.relu(run(key, ps, s[0], training)); // (B,T,4C)
        NDArray kv = run(value, ps, k.mul(k), training); // (B,T,C)
        return Activation.sigmoid(run(receptance, ps, s[1], training)).mul(kv);
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
        int c = channels;
        float[] normed = hb.floats("normed", (long) rows * c);
        ln.forwardFast(x, normed, rows);
        float[] shifted = shiftFast(hb, normed, bsz, h, w);
        float[] xk = inputFast(hb, 0, normed, shifted, rows);
        float[] kv = hb.floats("wkv", (long) rows * c); // the spatial mix's buffers are free here
        float[] r = normed; // dead once the receptance's input is made: it takes the result (one image-sized buffer less)
        NDArray wk = SpatialMix.weight(key);
        NDArray wv = SpatialMix.weight(value);
        int hidden = (int) wk.getShape().get(0); // 4C
        double macs = 2.0 * rows * c * hidden;
        if (limits.linearInJava(c, hidden)) {
            float[] wkT = host.get("key", () -> TokenLinear.transpose(wk.toFloatArray(), hidden, c));
            float[] wvT = host.get("value", () -> TokenLinear.transpose(wv.toFloatArray(), c, hidden));
            hb.matmul(macs, () -> TokenLinear.squaredReluMlp(xk, wkT, wvT, c, hidden, kv, rows));
        } else {
            hb.matmul(macs, () -> hb.chunked(xk, c, kv, c, rows, hidden, limits.chunkFloats(), manager, s -> {
                NDArray k = Activation.relu(Linear.linear(s, wk).singletonOrThrow()); // (n, 4C)
                return Linear.linear(k.muli(k), wv).singletonOrThrow();
            }));
        }
        // the receptance's input is made before its result overwrites normed
        SpatialMix.project(hb, host, "receptance", inputFast(hb, 1, normed, shifted, rows), c,
                () -> SpatialMix.weight(receptance), r, c, rows, limits, manager);
        TokenOps.gatedResidual(x, gamma, r, kv, rows, c);
    }

}
