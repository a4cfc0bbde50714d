package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;

/**
 * One RWKV block (the reference's {@code Block}), on tokens of an image (B, C, H, W):
 *
 * <pre>
 * x = x + gamma1 * SpatialMix(LayerNorm1(x))
 * x = x + gamma2 * ChannelMix(LayerNorm2(x))
 * </pre>
 */
public final class RwkvBlock extends Module implements DerivedWeights {

    private final Parameter gamma1;
    private final Parameter gamma2;
    private final TokenLayerNorm ln1;
    private final TokenLayerNorm ln2;
    private final SpatialMix att;
    private final ChannelMix ffn;

    public RwkvBlock(int channels, int recurrence, int hiddenRate) {
        this(channels, recurrence, hiddenRate, TokenShift.OMNI, 0, 1);
    }

    /** Block {@code layer} of a stage of {@code layers}, with the given token shift. */
    RwkvBlock(int channels, int recurrence, int hiddenRate, TokenShift shift, int layer, int layers) {
        gamma1 = param("gamma1", ones(), channels);
        gamma2 = param("gamma2", ones(), channels);
        ln1 = child("ln1", new TokenLayerNorm(channels), Layers.tokens(channels));
        ln2 = child("ln2", new TokenLayerNorm(channels), Layers.tokens(channels));
        att = child("att", new SpatialMix(channels, recurrence, shift, layer, layers), Layers.image(channels));
        ffn = child("ffn", new ChannelMix(channels, hiddenRate, shift, layer, layers), Layers.image(channels));
    }

    /** Runs the block alone on x (B, C, H, W). */
    public NDArray forward(NDArray x, boolean training) {
        return forward(new ParameterStore(x.getManager(), false), x, training);
    }

    /** Selects the Bi-WKV implementation of this block's spatial mix. */
    public void setWkvKernel(WkvKernel kernel) {
        att.setKernel(kernel);
    }

    @Override
    NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        Shape s = x.getShape();
        long h = s.get(2);
        long w = s.get(3);
        NDArray t = tokens(x); // (B,T,C)
        NDArray g1 = ps.getValue(gamma1, x.getDevice(), training);
        NDArray g2 = ps.getValue(gamma2, x.getDevice(), training);
        // the input's array first: results live on its manager, not on the parameters' (model's)
        t = t.add(att.forwardTokens(ps, ln1.forward(ps, t, training), h, w, training).mul(g1));
        t = t.add(ffn.forwardTokens(ps, ln2.forward(ps, t, training), h, w, training).mul(g2));
        return image(t, h, w);
    }

    /** {@link #forward(ParameterStore, NDArray, boolean)} with the spatial mix's fused Bi-WKV steps on {@code tape}. */
    NDArray forward(ParameterStore ps, NDArray x, boolean training, WkvTape tape) {
        att.tape = tape;
        try {
            return forward(ps, x, training);
        } finally {
            att.tape = null;
        }
    }

    /** Inference fast path: channels-last host tokens x (B*h*w, C) updated in place. */
    void forwardFast(float[] x, int bsz, int h, int w, NDManager manager) {
        att.forwardFast(x, host.get("gamma1", () -> gamma1.getArray().toFloatArray()), ln1, bsz, h, w, manager);
        ffn.forwardFast(x, host.get("gamma2", () -> gamma2.getArray().toFloatArray()), ln2, bsz, h, w, manager);
    }

    private final HostWeights host = new HostWeights();

    @Override
    public void weightsChanged() {
        host.clear();
    }

    boolean fastPath() {
        return att.fastPath();
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    SpatialMix att() {
        return att;
    }

    ChannelMix ffn() {
        return ffn;
    }
}
