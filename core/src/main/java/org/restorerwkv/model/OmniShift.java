package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import org.restorerwkv.wkv.OmniShiftKernel;

/**
 * Omni-Shift: depthwise token shift over 1x1, 3x3 and 5x5 neighbourhoods plus identity.
 *
 * <pre>
 * training form:  a0*x + a1*DW1x1(x) + a2*DW3x3(x) + a3*DW5x5(x)
 * inference form: DW5x5(x) with W = a0*delta + a1*pad(W1) + a2*pad(W3) + a3*W5   (re-parameterized)
 * </pre>
 *
 * The fused weight lives in {@code conv5x5_reparam.weight} (the reference key) but is never trusted
 * from a checkpoint: it is recomputed from the branches whenever an inference forward follows a
 * training forward or a weight change.
 */
public final class OmniShift extends Module implements DerivedWeights {

    private final int channels;
    private final Parameter alpha;
    private final Conv2d conv1x1;
    private final Conv2d conv3x3;
    private final Conv2d conv5x5;
    private final Conv2d conv5x5Reparam;
    private volatile boolean reparamStale = true;
    /** The fused weight in tap-major (25, C) order, for the channels-last kernel. */
    private volatile float[] taps;

    public OmniShift(int channels) {
        this.channels = channels;
        alpha = param("alpha", standardNormal(), 4);
        conv1x1 = child("conv1x1", Layers.depthwise(channels, 1), Layers.image(channels));
        conv3x3 = child("conv3x3", Layers.depthwise(channels, 3), Layers.image(channels));
        conv5x5 = child("conv5x5", Layers.depthwise(channels, 5), Layers.image(channels));
        conv5x5Reparam = child("conv5x5_reparam", Layers.depthwise(channels, 5), Layers.image(channels));
        // derived from the branches, never trained
        conv5x5Reparam.freezeParameters(true);
    }

    /** Runs Omni-Shift alone on x (B, C, H, W): the training form, or the fused 5x5 in inference. */
    public NDArray forward(NDArray x, boolean training) {
        return forward(new ParameterStore(x.getManager(), false), x, training);
    }

    @Override
    NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        if (training) {
            reparamStale = true;
            // a0 x + a1 conv1x1(x) + a2 conv3x3(x) + a3 conv5x5(x) is one depthwise 5x5 convolution
            // whose weight combines the branches (zero padding keeps them aligned): built from the
            // parameters inside autograd, so alpha and every branch get their gradients, and the
            // image is convolved once instead of three times (the same linear map; parity tests hold)
            NDArray a = ps.getValue(alpha, x.getDevice(), true).get(":");
            a.attach(x.getManager()); // the per-call slices of alpha must not pile up on the model's manager
            NDArray w1 = ps.getValue(conv1x1.getParameters().get("weight"), x.getDevice(), true); // (C,1,1,1)
            NDArray w3 = ps.getValue(conv3x3.getParameters().get("weight"), x.getDevice(), true); // (C,1,3,3)
            NDArray w5 = ps.getValue(conv5x5.getParameters().get("weight"), x.getDevice(), true); // (C,1,5,5)
            NDManager m = x.getManager();
            NDArray centre = m.zeros(new Shape(1, 1, 5, 5), w5.getDataType());
            centre.set(new NDIndex("..., 2, 2"), 1f);
            NDArray fused = w5.mul(a.get(3))
                    .add(zeroPad(w3.mul(a.get(2)), 1))
                    .add(w1.mul(a.get(1)).add(a.get(0)).mul(centre));
            return Conv2d.conv2d(x, fused, null, new Shape(1, 1), new Shape(2, 2), new Shape(1, 1), channels)
                    .singletonOrThrow();
        }
        if (reparamStale) {
            reparameterize();
        }
        return run(conv5x5Reparam, ps, x, false);
    }

    /** The fused 5x5 weight as (25, C) taps for {@link OmniShiftKernel}, recomputed first if stale. */
    float[] taps() {
        if (reparamStale) {
            reparameterize();
        }
        return taps;
    }

    /** Marks the fused weight out of date (after loading or changing branch weights). */
    @Override
    public void weightsChanged() {
        reparamStale = true;
    }

    /** Recomputes {@code conv5x5_reparam.weight} = a0*delta + a1*pad(W1) + a2*pad(W3) + a3*W5. */
    public synchronized void reparameterize() {
        NDArray target = weight(conv5x5Reparam);
        try (NDManager scope = target.getManager().newSubManager()) {
            NDArray a = alpha.getArray().duplicate();
            a.attach(scope);
            float[] al = a.toFloatArray();
            NDArray w1 = weight(conv1x1).duplicate(); // (C,1,1,1)
            NDArray w3 = weight(conv3x3).duplicate(); // (C,1,3,3)
            NDArray w5 = weight(conv5x5).duplicate(); // (C,1,5,5)
            w1.attach(scope);
            w3.attach(scope);
            w5.attach(scope);
            NDArray fused = w5.mul(al[3]);
            NDArray centre = w1.mul(al[1]).add(al[0]); // identity + 1x1 both sit on the centre tap
            fused.set(new NDIndex(":, :, 2:3, 2:3"), fused.get(new NDIndex(":, :, 2:3, 2:3")).add(centre));
            fused.set(new NDIndex(":, :, 1:4, 1:4"), fused.get(new NDIndex(":, :, 1:4, 1:4")).add(w3.mul(al[2])));
            float[] f = fused.toFloatArray();
            copyInto(target, f);
            taps = OmniShiftKernel.tapMajor(f, channels);
        }
        reparamStale = false;
    }

    /** (C,1,k,k) -> (C,1,k+2p,k+2p) with p zeros on every side, by concatenation (differentiable). */
    private static NDArray zeroPad(NDArray w, int p) {
        NDManager m = w.getManager();
        Shape s = w.getShape();
        long c = s.get(0);
        long k = s.get(2);
        NDArray side = m.zeros(new Shape(c, 1, k, p), w.getDataType());
        NDArray wide = NDArrays.concat(new NDList(side, w, side), 3); // (C,1,k,k+2p)
        NDArray cap = m.zeros(new Shape(c, 1, p, k + 2 * p), w.getDataType());
        return NDArrays.concat(new NDList(cap, wide, cap), 2);
    }

    private static NDArray weight(Conv2d conv) {
        return conv.getParameters().get("weight").getArray();
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    public int channels() {
        return channels;
    }
}
