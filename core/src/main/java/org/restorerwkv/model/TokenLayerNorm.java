package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;
import org.restorerwkv.wkv.TokenOps;

/** nn.LayerNorm(C) on tokens (B, T, C): normalizes over C, affine, eps 1e-5; keys weight, bias. */
final class TokenLayerNorm extends AbstractBlock implements DerivedWeights {

    private static final float EPS = 1e-5f;
    private final long channels;
    private final Parameter weight;
    private final Parameter bias;

    public TokenLayerNorm(long channels) {
        this.channels = channels;
        weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.GAMMA)
                .optShape(new Shape(channels)).optInitializer(new ConstantInitializer(1f)).build());
        bias = addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BETA)
                .optShape(new Shape(channels)).optInitializer(new ConstantInitializer(0f)).build());
    }

    public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        return ai.djl.nn.norm.LayerNorm.layerNorm(x, new Shape(channels),
                ps.getValue(weight, x.getDevice(), training), ps.getValue(bias, x.getDevice(), training), EPS)
                .singletonOrThrow();
    }

    /** Inference on channels-last host tokens: rows of C floats from x normalized into out. */
    void forwardFast(float[] x, float[] out, int rows) {
        TokenOps.layerNorm(x, host.get("weight", () -> weight.getArray().toFloatArray()),
                host.get("bias", () -> bias.getArray().toFloatArray()), EPS, out, rows, (int) channels);
    }

    /** Host copies of weight and bias for {@link #forwardFast}. */
    private final HostWeights host = new HostWeights();

    @Override
    public void weightsChanged() {
        host.clear();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
        return new NDList(forward(ps, in.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
