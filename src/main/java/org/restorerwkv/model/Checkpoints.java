package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradient checkpointing of RWKV blocks: training memory for one block's autograd graph at a time
 * instead of every block's, for a second forward pass of each block.
 *
 * <p>DJL offers no custom autograd function, so the graph is cut instead. In the forward pass a
 * checkpointed block runs with gradient recording off on a detached copy of its input, and its
 * output becomes a fresh leaf that requires a gradient; only the block's input and output stay.
 * The rest of the network (embedding, resampling, skips, output) is recorded as usual, in pieces
 * that end at a block's input or at the loss. {@link #backward} then walks the blocks in reverse:
 * once the loss' backward and those of every later block have filled the output leaf's gradient
 * g, the block runs again with recording on, {@code sum(y * g)} is backpropagated (the block's
 * parameter gradients, and dL/d input), and {@code sum(x * dL/dx)} carries it on through the
 * recorded piece that produced the input. Every later consumer of a tensor comes later in the
 * forward order, so the reverse walk completes each gradient before it is used; libtorch adds up
 * a leaf's or parameter's gradients over the several backward calls.
 */
final class Checkpoints {

    /** One checkpointed block: its input as recorded (x), detached (xd), and its output leaf. */
    private record Segment(RwkvBlock block, ParameterStore ps, boolean training, NDArray x, NDArray xd, NDArray y) {}

    private final List<Segment> segments = new ArrayList<>();

    /** Forward of {@code block} on x without keeping its graph; returns its output as a leaf. */
    NDArray forward(RwkvBlock block, ParameterStore ps, NDArray x, boolean training) {
        NDManager outer = x.getManager();
        NDArray xd = x.stopGradient();
        NDArray y;
        boolean recording = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        // the block's temporaries (operations on xd land on xd's manager) die with the scope
        try (NDManager scope = outer.newSubManager()) {
            xd.tempAttach(scope);
            y = block.forward(ps, xd, training);
            y.attach(outer);
        } finally {
            JniUtils.setGradMode(recording);
        }
        y.setRequiresGradient(true);
        segments.add(new Segment(block, ps, training, x, xd, y));
        return y;
    }

    /** The blocks' part of the backward pass; call after backpropagating the loss. */
    void backward(GradientCollector gc) {
        for (int i = segments.size() - 1; i >= 0; i--) {
            Segment s = segments.get(i);
            NDArray g = s.y().getGradient();
            NDManager outer = s.xd().getManager();
            NDArray dx;
            try (NDManager scope = outer.newSubManager()) {
                s.xd().tempAttach(scope);
                s.xd().setRequiresGradient(true);
                NDArray y = s.block().forward(s.ps(), s.xd(), s.training());
                gc.backward(y.mul(g).sum());
                dx = s.xd().getGradient();
                dx.attach(outer);
            }
            // x is a leaf or was computed from parameters (every block input in this model is)
            gc.backward(s.x().mul(dx).sum());
            // free as we go: the peak holds one block's graph, not all of them
            g.close();
            dx.close();
            s.y().close();
            s.xd().close();
        }
        segments.clear();
    }
}
