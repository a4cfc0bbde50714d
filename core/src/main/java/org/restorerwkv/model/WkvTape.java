package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The backward steps of a block's fused Bi-WKV calls, in the order of the forward pass. Each step,
 * run once the gradient of its output leaf is complete, returns a scalar whose backward passes the
 * fused kernel's gradients on to the graph (see {@link SpatialMix}).
 */
final class WkvTape {

    private final List<Supplier<NDArray>> steps = new ArrayList<>();

    void add(Supplier<NDArray> step) {
        steps.add(step);
    }

    /** The steps, last first. */
    List<Supplier<NDArray>> reversed() {
        List<Supplier<NDArray>> r = new ArrayList<>(steps);
        java.util.Collections.reverse(r);
        return r;
    }
}
