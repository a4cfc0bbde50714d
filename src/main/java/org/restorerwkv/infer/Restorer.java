package org.restorerwkv.infer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.model.RestoreRwkv;

/**
 * Runs a model in inference mode on images of any size: each batch is reflect-padded to a multiple
 * of 8, restored, and cropped back. Temporaries of a batch live in a sub-manager that is closed
 * after the batch, so memory stays flat across slices.
 */
public final class Restorer {

    /** The U-Net halves the resolution three times. */
    public static final int MULTIPLE = 8;

    private final RestoreRwkv model;
    private final NDManager manager;
    private final int batchSize;

    public Restorer(RestoreRwkv model, NDManager manager, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1");
        }
        this.model = model;
        this.manager = manager;
        this.batchSize = batchSize;
    }

    public RestoreRwkv model() {
        return model;
    }

    /**
     * Restores raw values (no normalization). Accepts (H, W), (D, H, W) = D single-channel slices,
     * or (N, C, H, W); returns the same shape.
     */
    public HostTensor restore(HostTensor in) {
        long[] s = in.shape();
        int cin = model.config().inpChannels();
        int cout = model.config().outChannels();
        int n;
        int c;
        if (s.length == 2) {
            n = 1;
            c = 1;
        } else if (s.length == 3) {
            n = (int) s[0];
            c = 1;
        } else if (s.length == 4) {
            n = (int) s[0];
            c = (int) s[1];
        } else {
            throw new IllegalArgumentException("expected (H,W), (D,H,W) or (N,C,H,W), got " + Arrays.toString(s));
        }
        if (c != cin) {
            throw new IllegalArgumentException("the model takes " + cin + " channel(s), the input has " + c
                    + " (shape " + Arrays.toString(s) + ")");
        }
        if (s.length < 4 && cout != 1) {
            throw new IllegalArgumentException("the model writes " + cout + " channels: give the input as (N,C,H,W)");
        }
        int h = (int) s[s.length - 2];
        int w = (int) s[s.length - 1];
        if (h < 1 || w < 1) {
            throw new IllegalArgumentException("empty image " + Arrays.toString(s));
        }
        float[] src = in.data();
        for (int i = 0; i < src.length; i++) {
            if (!Float.isFinite(src[i])) {
                throw new IllegalArgumentException("input holds a non-finite value (" + src[i] + ") at index " + i);
            }
        }
        float[] out = new float[n * cout * h * w];
        int inPlane = cin * h * w;
        int outPlane = cout * h * w;
        for (int b0 = 0; b0 < n; b0 += batchSize) {
            int nb = Math.min(batchSize, n - b0);
            float[] batch = Arrays.copyOfRange(src, b0 * inPlane, (b0 + nb) * inPlane);
            float[] y = restoreBatch(batch, nb, h, w);
            System.arraycopy(y, 0, out, b0 * outPlane, nb * outPlane);
        }
        long[] os = s.clone();
        if (s.length == 4) {
            os[1] = cout;
        }
        return new HostTensor(os, out);
    }

    /** nb images of (Cin, h, w) -> nb images of (Cout, h, w). */
    public float[] restoreBatch(float[] batch, int nb, int h, int w) {
        int cin = model.config().inpChannels();
        int cout = model.config().outChannels();
        int ph = Padding.roundUp(h, MULTIPLE);
        int pw = Padding.roundUp(w, MULTIPLE);
        float[] padded = Padding.pad(batch, nb * cin, h, w, ph, pw);
        float[] y;
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = scope.create(padded, new Shape(nb, cin, ph, pw));
            y = model.forward(x, false).toFloatArray();
        }
        return Padding.crop(y, nb * cout, ph, pw, h, w);
    }
}
