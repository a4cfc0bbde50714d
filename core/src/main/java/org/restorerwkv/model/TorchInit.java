package org.restorerwkv.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.UniformInitializer;

/**
 * PyTorch's default initialization, which the reference trains from: Conv and Linear weights
 * kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and biases
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the weight's fan_in.
 */
final class TorchInit {

    private TorchInit() {}

    /** fan_in of a weight (out, in, kh, kw) or (out, in): in * kh * kw. */
    static long fanIn(Shape weight) {
        return weight.size() / weight.get(0);
    }

    /** Sets weight and bias initializers of a conv or linear block whose weight shape is known. */
    static <B extends Block> B init(B block, Shape weightShape) {
        float bound = (float) (1.0 / Math.sqrt(fanIn(weightShape)));
        block.setInitializer(new UniformInitializer(bound), Parameter.Type.WEIGHT);
        block.setInitializer(new UniformInitializer(bound), Parameter.Type.BIAS);
        return block;
    }
}
