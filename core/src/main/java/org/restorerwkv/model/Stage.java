package org.restorerwkv.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;
import org.restorerwkv.wkv.NativeArrays;
import org.restorerwkv.wkv.TokenOps;

/** n RWKV blocks in sequence (the reference's nn.Sequential), keyed "0", "1", ... */
final class Stage extends Module {

    private final List<RwkvBlock> blocks = new ArrayList<>();

    public Stage(int n, int channels, int recurrence, int hiddenRate) {
        this(n, channels, recurrence, hiddenRate, TokenShift.OMNI);
    }

    Stage(int n, int channels, int recurrence, int hiddenRate, TokenShift shift) {
        for (int i = 0; i < n; i++) {
            blocks.add(child(Integer.toString(i), new RwkvBlock(channels, recurrence, hiddenRate, shift, i, n),
                    Layers.image(channels)));
        }
    }

    @Override
    NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        if (!training && !blocks.isEmpty() && x.getDevice().equals(Device.cpu())
                && x.getDataType() == DataType.FLOAT32 && fastPath()) {
            return forwardFast(x);
        }
        for (RwkvBlock b : blocks) {
            x = segments != null ? segments.forward(b, ps, x, training) : b.forward(ps, x, training);
        }
        return x;
    }

    /** Set by the model for a recorded pass cut into segments (see {@link BlockSegments}), else null. */
    BlockSegments segments;

    /**
     * Inference on CPU: the image goes to channels-last host tokens (B, H, W, C) once, every block
     * updates them in place, and they come back as one (B, C, H, W) image.
     */
    private NDArray forwardFast(NDArray x) {
        Shape s = x.getShape();
        int bsz = (int) s.get(0);
        int c = (int) s.get(1);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        int len = h * w;
        long n = (long) bsz * c * len;
        HostBuffers hb = HostBuffers.get();
        // the blocks' shift buffer is free outside them: it holds the (B, C, H, W) planes on the way in and out
        float[] planes = HostBuffers.read(x, hb.floats("shifted", n));
        float[] tokens = hb.floats("residual", n);
        TokenOps.toTokens(planes, tokens, bsz, len, c);
        forwardTokens(tokens, bsz, h, w, x.getManager());
        float[] out = planes; // free again: the tokens hold the stage state
        TokenOps.toPlanes(tokens, out, bsz, len, c);
        return NativeArrays.fromHost(x.getManager(), out, s);
    }

    /** Inference on channels-last host tokens (B*h*w, C), updated in place by every block. */
    void forwardTokens(float[] tokens, int bsz, int h, int w, NDManager manager) {
        for (RwkvBlock b : blocks) {
            b.forwardFast(tokens, bsz, h, w, manager);
        }
    }

    boolean fastPath() {
        return blocks.stream().allMatch(RwkvBlock::fastPath);
    }

    List<RwkvBlock> blocks() {
        return blocks;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
