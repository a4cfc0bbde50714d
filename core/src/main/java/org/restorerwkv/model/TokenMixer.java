package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.Arrays;
import org.restorerwkv.wkv.OmniShiftKernel;

/**
 * What SpatialMix and ChannelMix share: both mix LayerNorm'd tokens (B, T = H*W, C) after a token
 * shift ({@link TokenShift}); as a stand-alone block each maps an image (B, C, H, W) to an image of
 * the same shape.
 *
 * <p>The shift gives each projection P (k, v, r of the spatial mix; k, r of the channel mix) its
 * input: Omni-Shift one shifted image s for all; Quad- and Uni-Shift {@code x * mix_P + xx * (1 - mix_P)}
 * with xx the shifted tokens and a learnt per-channel {@code mix_P} of shape (1, 1, C), as Vision-RWKV
 * and RWKV-4 do; none the tokens themselves.
 */
abstract class TokenMixer extends Module implements DerivedWeights {

    /** Sizes that choose between equivalent code paths ({@link KernelLimits#apply}). */
    KernelLimits limits = KernelLimits.DEFAULT;

    /** x: tokens (B, T = h*w, C) -> (B, T, C). */
    abstract NDArray forwardTokens(ParameterStore ps, NDArray x, long h, long w, boolean training);

    final TokenShift shift;
    final int channels;
    /** The reference's Omni-Shift, or null for the other shifts. */
    private OmniShift omniShift;
    /** Quad and Uni: one learnt interpolation a projection, else empty. */
    private Parameter[] mixes = new Parameter[0];

    TokenMixer(TokenShift shift, int channels) {
        this.shift = shift;
        this.channels = channels;
    }

    /** Host copies of the weights for the inference fast path. */
    final HostWeights host = new HostWeights();

    @Override
    public void weightsChanged() {
        host.clear();
    }

    /**
     * Registers the shift's parameters where the subclass's reference registers them. Omni-Shift is
     * the child {@code omni_shift}; Quad and Uni add {@code <prefix>k}, ... of shape (1, 1, C) for the
     * projections named, initialized as both papers' "fancy" init: with channel ramp i / C,
     * {@code mix = ramp^(scale * (1 - layer / layers)) + offset * layer / (layers - 1)} (offset 0 for a
     * single-block stage, where the originals would divide by zero).
     *
     * @param exponentScale per projection (1 for k and v, 0.5 for the spatial mix's r)
     * @param offset per projection (0.3 for the spatial mix's v, else 0)
     */
    final void addShift(String[] projections, double[] exponentScale, double[] offset, int layer, int layers) {
        switch (shift) {
            case OMNI -> omniShift = child("omni_shift", new OmniShift(channels), Layers.image(channels));
            case NONE -> { }
            default -> {
                mixes = new Parameter[projections.length];
                double toAlmost0 = 1.0 - (double) layer / layers;
                double to1 = layers > 1 ? (double) layer / (layers - 1) : 0;
                for (int p = 0; p < projections.length; p++) {
                    double e = exponentScale[p] * toAlmost0;
                    double o = offset[p] * to1;
                    mixes[p] = param(shift.mixPrefix() + projections[p], (m, s, t) -> {
                        float[] v = new float[channels];
                        for (int i = 0; i < channels; i++) {
                            v[i] = (float) (Math.pow((double) i / channels, e) + o);
                        }
                        return m.create(v, s).toType(t, false);
                    }, 1, 1, channels);
                }
            }
        }
    }

    /**
     * The inputs of the n projections from LayerNorm'd tokens x (B, T = h*w, C), differentiable: one
     * array for Omni-Shift and none (every projection reads it), n arrays for Quad and Uni.
     */
    final NDArray[] projectionInputs(ParameterStore ps, NDArray x, long h, long w, boolean training, int n) {
        NDArray[] in = new NDArray[n];
        switch (shift) {
            case OMNI -> Arrays.fill(in, tokens(omniShift.forward(ps, image(x, h, w), training)));
            case NONE -> Arrays.fill(in, x);
            default -> {
                NDArray xx = shift == TokenShift.QUAD ? tokens(quadShift(image(x, h, w))) : uniShift(x);
                NDArray diff = x.sub(xx);
                for (int p = 0; p < n; p++) {
                    // x * mix + xx * (1 - mix), written with one product
                    in[p] = xx.add(diff.mul(ps.getValue(mixes[p], x.getDevice(), training)));
                }
            }
        }
        return in;
    }

    /**
     * Vision-RWKV's q_shift on an image (B, C, H, W), differentiable: with g = floor(C/4), channels
     * [0, g) take the pixel to their left, [g, 2g) the one to their right, [2g, 3g) the one above,
     * [3g, 4g) the one below (zero where that is outside the image); channels from 4g on are copied.
     */
    static NDArray quadShift(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        long g = c / 4;
        if (g == 0) {
            return x;
        }
        NDManager m = x.getManager();
        NDArray col = m.zeros(new Shape(b, g, h, 1), x.getDataType());
        NDArray row = m.zeros(new Shape(b, g, 1, w), x.getDataType());
        NDList parts = new NDList(
                NDArrays.concat(new NDList(col, x.get(new NDIndex(":, 0:{}, :, 0:{}", g, w - 1))), 3),
                NDArrays.concat(new NDList(x.get(new NDIndex(":, {}:{}, :, 1:", g, 2 * g)), col), 3),
                NDArrays.concat(new NDList(row, x.get(new NDIndex(":, {}:{}, 0:{}, :", 2 * g, 3 * g, h - 1))), 2),
                NDArrays.concat(new NDList(x.get(new NDIndex(":, {}:{}, 1:, :", 3 * g, 4 * g)), row), 2));
        if (4 * g < c) {
            parts.add(x.get(new NDIndex(":, {}:, :, :", 4 * g)));
        }
        return NDArrays.concat(parts, 1);
    }

    /** RWKV-4's time shift on tokens (B, T, C), differentiable: token t takes token t - 1, token 0 zeros. */
    static NDArray uniShift(NDArray x) {
        Shape s = x.getShape();
        NDArray first = x.getManager().zeros(new Shape(s.get(0), 1, s.get(2)), x.getDataType());
        return NDArrays.concat(new NDList(first, x.get(new NDIndex(":, 0:{}, :", s.get(1) - 1))), 1);
    }

    /**
     * Inference fast path, first step: the shifted LayerNorm'd channels-last tokens normed (B*h*w,
     * C) in this thread's "shifted" buffer: Omni-Shift's fused 5x5, Quad's or Uni's xx, or a copy
     * for none (callers reuse {@code normed} once it is dead).
     */
    final float[] shiftFast(HostBuffers hb, float[] normed, int bsz, int h, int w) {
        int rows = bsz * h * w;
        int c = channels;
        float[] shifted = hb.floats("shifted", (long) rows * c);
        switch (shift) {
            case OMNI -> OmniShiftKernel.apply(normed, omniShift.taps(), shifted, bsz, h, w, c);
            case NONE -> System.arraycopy(normed, 0, shifted, 0, rows * c);
            case QUAD -> quadShift(normed, shifted, bsz, h, w, c);
            case UNI -> uniShift(normed, shifted, bsz, h * w, c);
        }
        return shifted;
    }

    /** True when every projection reads the one shifted array (Omni-Shift, none). */
    final boolean sharedInput() {
        return mixes.length == 0;
    }

    /**
     * Inference fast path, second step: the input of projection p, {@code shifted} itself when
     * {@link #sharedInput()}, else {@code normed * mix_p + shifted * (1 - mix_p)} in this thread's
     * "mixed" buffer (valid until the next call).
     */
    final float[] inputFast(HostBuffers hb, int p, float[] normed, float[] shifted, int rows) {
        if (sharedInput()) {
            return shifted;
        }
        int c = channels;
        float[] mix = mixHost(p);
        float[] out = hb.floats("mixed", (long) rows * c);
        for (int r = 0; r < rows; r++) {
            int o = r * c;
            for (int i = 0; i < c; i++) {
                float xx = shifted[o + i];
                out[o + i] = xx + (normed[o + i] - xx) * mix[i];
            }
        }
        return out;
    }

    private float[] mixHost(int p) {
        return host.get("mix" + p, () -> mixes[p].getArray().toFloatArray());
    }

    /** {@link #quadShift(NDArray)} on channels-last tokens (B, H, W, C). */
    static void quadShift(float[] x, float[] out, int bsz, int h, int w, int c) {
        int g = c / 4;
        for (int b = 0; b < bsz; b++) {
            for (int y = 0; y < h; y++) {
                for (int xi = 0; xi < w; xi++) {
                    int o = ((b * h + y) * w + xi) * c;
                    copyOrZero(x, xi > 0 ? o - c : -1, out, o, 0, g);
                    copyOrZero(x, xi < w - 1 ? o + c : -1, out, o, g, 2 * g);
                    copyOrZero(x, y > 0 ? o - w * c : -1, out, o, 2 * g, 3 * g);
                    copyOrZero(x, y < h - 1 ? o + w * c : -1, out, o, 3 * g, 4 * g);
                    System.arraycopy(x, o + 4 * g, out, o + 4 * g, c - 4 * g);
                }
            }
        }
    }

    /** out[o + from, o + to) = x[src + from, src + to), or zeros when src < 0 (outside the image). */
    private static void copyOrZero(float[] x, int src, float[] out, int o, int from, int to) {
        if (src < 0) {
            Arrays.fill(out, o + from, o + to, 0f);
        } else {
            System.arraycopy(x, src + from, out, o + from, to - from);
        }
    }

    /** {@link #uniShift(NDArray)} on channels-last tokens (B, T, C). */
    static void uniShift(float[] x, float[] out, int bsz, int len, int c) {
        for (int b = 0; b < bsz; b++) {
            int o = b * len * c;
            Arrays.fill(out, o, o + c, 0f);
            System.arraycopy(x, o, out, o + c, (len - 1) * c);
        }
    }

    /** The Omni-Shift, or null when the shift is another. */
    OmniShift omniShift() {
        return omniShift;
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
