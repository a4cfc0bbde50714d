package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A composite block of the network: its children are named as the reference's submodules (so the
 * parameter tree spells the PyTorch state_dict keys), each with the explicit input shape it is
 * initialized for, and its forward maps one NCHW image to one NCHW image.
 */
abstract class Module extends AbstractBlock {

    private final Map<Block, Shape> initShapes = new IdentityHashMap<>();

    /** Adds a child under the reference's module name, initialized for {@code initShape}. */
    protected final <B extends Block> B child(String name, B block, Shape initShape) {
        addChildBlock(name, block);
        initShapes.put(block, initShape);
        return block;
    }

    /** A parameter with an explicit shape and initializer, keyed by the reference's name. */
    protected final Parameter param(String name, Initializer init, long... shape) {
        return addParameter(Parameter.builder().setName(name).setType(Parameter.Type.OTHER)
                .optShape(new Shape(shape)).optInitializer(init).build());
    }

    protected static Initializer standardNormal() {
        return new NormalInitializer(1f);
    }

    protected static Initializer ones() {
        return new ConstantInitializer(1f);
    }

    /** One image (B, C, H, W) in, one image out. */
    abstract NDArray forward(ParameterStore ps, NDArray x, boolean training);

    @Override
    protected final NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
        return new NDList(forward(ps, in.singletonOrThrow(), training));
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        for (Block b : getChildren().values()) {
            b.initialize(manager, dataType, initShapes.get(b));
        }
    }

    /** Runs a DJL child block on one array. */
    protected static NDArray run(Block b, ParameterStore ps, NDArray x, boolean training) {
        return b.forward(ps, new NDList(x), training).singletonOrThrow();
    }

    /**
     * Overwrites a parameter's values in place (index_put_, outside autograd). DJL's set(Buffer)
     * would do too, but it runs under a deprecated libtorch guard that prints a warning.
     */
    static void copyInto(NDArray target, float[] values) {
        try (NDManager scope = target.getManager().newSubManager()) {
            NDArray src = scope.create(values, target.getShape());
            target.set(new ai.djl.ndarray.index.NDIndex("..."), src);
        }
    }

    // ---- layout changes between image (B,C,H,W) and row-major tokens (B,T=H*W,C) ----

    static NDArray tokens(NDArray x) {
        Shape s = x.getShape();
        return x.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)).transpose(0, 2, 1);
    }

    static NDArray image(NDArray t, long h, long w) {
        Shape s = t.getShape();
        return t.transpose(0, 2, 1).reshape(s.get(0), s.get(2), h, w);
    }
}
