package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A training pass cut into segments at the RWKV blocks, backpropagated segment by segment; for
 * gradient checkpointing, and to attach the fused Bi-WKV backward to DJL's autograd.
 *
 * <p>DJL offers no custom autograd function, so the graph is cut instead. In the forward pass each
 * block runs on a detached copy of its input, and its output becomes a fresh leaf that requires a
 * gradient. The rest of the network (embedding, resampling, skips, output) is recorded as usual, in
 * pieces that end at a block's input or at the loss. {@link #backward} then walks the blocks in
 * reverse: once the loss' backward and those of every later block have filled the output leaf's
 * gradient g, {@code y * g} is backpropagated through the block (its parameters' gradients and
 * dL/d input), then the block's fused Bi-WKV steps (see {@link SpatialMix}), and
 * {@code sum(x * dL/dx)} carries it on through the recorded piece that produced the input. Every
 * later consumer of a tensor comes later in the forward order, so the reverse walk completes each
 * gradient before it is used; libtorch adds up a leaf's or parameter's gradients over the several
 * backward calls.
 *
 * <p>With {@code recompute} (gradient checkpointing) a block's first pass records nothing and keeps
 * only its input and output; the backward runs it again with recording on. Memory then holds one
 * block's graph at a time, for one more forward pass of the blocks (without a graph, on the fused
 * kernels). Without it, each block's graph is kept from the forward pass until its backward.
 */
final class BlockSegments {

    /** One block: its input as recorded (x) and detached (xd), output leaf (y); graph kept if not recomputed. */
    private static final class Segment {
        final RwkvBlock block;
        final ParameterStore ps;
        final boolean training;
        final NDArray x;
        final NDArray xd;
        NDArray y;
        NDManager scope; // the block's recorded pass (kept graph), null when recomputed
        NDArray inner; // the block's output in that graph
        WkvTape tape;

        Segment(RwkvBlock block, ParameterStore ps, boolean training, NDArray x, NDArray xd) {
            this.block = block;
            this.ps = ps;
            this.training = training;
            this.x = x;
            this.xd = xd;
        }
    }

    private final boolean recompute;
    private final List<Segment> segments = new ArrayList<>();

    BlockSegments(boolean recompute) {
        this.recompute = recompute;
    }

    /** Forward of {@code block} on x as a segment; returns its output as a leaf. */
    NDArray forward(RwkvBlock block, ParameterStore ps, NDArray x, boolean training) {
        NDManager outer = x.getManager();
        Segment s = new Segment(block, ps, training, x, x.stopGradient());
        if (recompute) {
            boolean recording = JniUtils.isGradMode();
            JniUtils.setGradMode(false);
            // the block's temporaries (operations on xd land on xd's manager) die with the scope
            try (NDManager scope = outer.newSubManager()) {
                s.xd.tempAttach(scope);
                s.y = block.forward(ps, s.xd, training);
                s.y.attach(outer);
            } finally {
                JniUtils.setGradMode(recording);
            }
        } else {
            record(s, outer);
            s.y = s.inner.stopGradient();
            s.y.attach(outer);
        }
        s.y.setRequiresGradient(true);
        segments.add(s);
        return s.y;
    }

    /** The block's pass with recording on, in a scope of its own that holds its graph. */
    private static void record(Segment s, NDManager outer) {
        s.scope = outer.newSubManager();
        s.xd.tempAttach(s.scope);
        s.xd.setRequiresGradient(true);
        s.tape = new WkvTape();
        s.inner = s.block.forward(s.ps, s.xd, s.training, s.tape);
    }

    /** The blocks' part of the backward pass; call after backpropagating the loss. */
    void backward(GradientCollector gc) {
        for (int i = segments.size() - 1; i >= 0; i--) {
            Segment s = segments.get(i);
            NDArray g = s.y.getGradient();
            NDManager outer = s.y.getManager();
            if (recompute) {
                record(s, outer);
            }
            NDArray dx;
            try (NDManager scope = s.scope) {
                // keep the block's graph while fused Bi-WKV steps still have to backpropagate through it
                List<Supplier<NDArray>> steps = s.tape.reversed();
                JniUtils.backward((PtNDArray) s.inner, (PtNDArray) g, !steps.isEmpty(), false);
                for (int j = 0; j < steps.size(); j++) {
                    NDArray target = steps.get(j).get();
                    JniUtils.backward((PtNDArray) target, (PtNDArray) target.onesLike(), j < steps.size() - 1, false);
                }
                dx = s.xd.getGradient();
                dx.attach(outer);
            }
            // x is a leaf or was computed from parameters (every block input in this model is)
            gc.backward(s.x.mul(dx).sum());
            // free as we go
            g.close();
            dx.close();
            s.y.close();
            s.xd.close();
        }
        segments.clear();
    }
}
