package org.restorerwkv.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.restorerwkv.wkv.TokenOps;

/**
 * Down- or up-sampling between U-Net levels: conv3x3 without bias, then PixelUnshuffle(2)
 * (C -> C/2 -> 2C, H/2) or PixelShuffle(2) (C -> 2C -> C/2, 2H). The conv is keyed {@code body.0}
 * as in the reference's nn.Sequential.
 */
final class Resample extends Module {

    private final boolean down;
    private final TapConv conv;

    private Resample(int channels, boolean down) {
        this.down = down;
        int out = down ? channels / 2 : channels * 2;
        conv = child("body.0", new TapConv(channels, out, 3, false), Layers.image(channels));
    }

    /** conv3x3 C->C/2, PixelUnshuffle(2): (B, C, H, W) -> (B, 2C, H/2, W/2). */
    public static Resample down(int channels) {
        return new Resample(channels, true);
    }

    /** conv3x3 C->2C, PixelShuffle(2): (B, C, H, W) -> (B, C/2, 2H, 2W). */
    public static Resample up(int channels) {
        return new Resample(channels, false);
    }

    @Override
    NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        NDArray y = run(conv, ps, x, training);
        return down ? pixelUnshuffle(y) : pixelShuffle(y);
    }

    /**
     * Inference on channels-last host tokens x (B*h*w, C): the conv into {@code convOut}, then the
     * shuffle into y, (B*h/2*w/2, 2C) down or (B*2h*2w, C/2) up.
     */
    void forwardTokens(float[] x, int bsz, int h, int w, float[] convOut, float[] y, NDManager manager) {
        conv.forwardTokens(x, bsz, h, w, convOut, manager);
        int c = conv.outChannels();
        if (down) {
            TokenOps.pixelUnshuffle(convOut, y, bsz, h, w, c);
        } else {
            TokenOps.pixelShuffle(convOut, y, bsz, h, w, c / 4);
        }
    }

    /** PyTorch's channel order: out channel c*4 + i*2 + j takes pixel (2y+i, 2x+j) of channel c. */
    static NDArray pixelUnshuffle(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0), c = s.get(1), h = s.get(2), w = s.get(3);
        return x.reshape(b, c, h / 2, 2, w / 2, 2).transpose(0, 1, 3, 5, 2, 4).reshape(b, c * 4, h / 2, w / 2);
    }

    /** Inverse of {@link #pixelUnshuffle}. */
    static NDArray pixelShuffle(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0), c = s.get(1) / 4, h = s.get(2), w = s.get(3);
        return x.reshape(b, c, 2, 2, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(b, c, h * 2, w * 2);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] in) {
        Shape s = in[0];
        return down
                ? new Shape[] {new Shape(s.get(0), s.get(1) * 2, s.get(2) / 2, s.get(3) / 2)}
                : new Shape[] {new Shape(s.get(0), s.get(1) / 2, s.get(2) * 2, s.get(3) * 2)};
    }
}
