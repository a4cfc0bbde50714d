package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;

/** n RWKV blocks in sequence (the reference's nn.Sequential), keyed "0", "1", ... */
public final class Stage extends Module {

    private final List<RwkvBlock> blocks = new ArrayList<>();

    public Stage(int n, int channels, int recurrence, int hiddenRate) {
        for (int i = 0; i < n; i++) {
            blocks.add(child(Integer.toString(i), new RwkvBlock(channels, recurrence, hiddenRate), Layers.image(channels)));
        }
    }

    @Override
    NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        for (RwkvBlock b : blocks) {
            x = b.forward(ps, x, training);
        }
        return x;
    }

    List<RwkvBlock> blocks() {
        return blocks;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
