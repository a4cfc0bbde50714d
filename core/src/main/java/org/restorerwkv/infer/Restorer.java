package org.restorerwkv.infer;

import org.restorerwkv.domain.Padding;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.wkv.NativeArrays;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;

/**
 * Runs a model in inference mode on images of any size: each batch is reflect-padded to a multiple
 * of 8, restored, and cropped back. By default ({@link #AUTO}) slices are restored whole whenever
 * the estimated peak memory of the pass ({@link MemoryEstimate}) fits the budget, so the global
 * receptive field of Re-WKV is kept; only slices too large for it are tiled ({@link #plan}). Temporaries of a batch live in a sub-manager that is closed
 * after the batch, so memory stays flat across slices.
 *
 * <p>Thread-safe: several threads may call {@code restore} at once; their network passes run one at
 * a time, so each result is bit-identical to a call made alone.
 */
public final class Restorer {

    /** The U-Net halves the resolution three times. */
    public static final int MULTIPLE = 8;

    /**
     * Tile value meaning "by memory": whole slices whenever a pass fits the memory budget (first
     * with fewer slices per pass), tiles only when a single slice does not.
     */
    public static final int AUTO = -1;
    /** Default tiling: {@link #AUTO}. */
    public static final int DEFAULT_TILE = AUTO;
    /** Default overlap between neighbouring tiles, blended with a raised-cosine ramp. */
    public static final int DEFAULT_OVERLAP = 32;
    /** Smallest tile automatic tiling chooses: below it the overlap would be most of the tile. */
    static final int MIN_AUTO_TILE = 64;

    private final RestoreRwkv model;
    private final NDManager manager;
    private final int batchSize;
    private final int tile;
    private final int overlap;
    private final long maxMemory;
    private final Object forwardLock = new Object();

    /** Automatic tiling within {@link MemoryEstimate#defaultBudget()}. */
    public Restorer(RestoreRwkv model, NDManager manager, int batchSize) {
        this(model, manager, batchSize, AUTO, DEFAULT_OVERLAP);
    }

    /** As {@link #Restorer(RestoreRwkv, NDManager, int, int, int, long)} with the default memory budget. */
    public Restorer(RestoreRwkv model, NDManager manager, int batchSize, int tile, int overlap) {
        this(model, manager, batchSize, tile, overlap, MemoryEstimate.defaultBudget());
    }

    /**
     * @param tile tile side in pixels (a multiple of 8); 0 restores every slice whole; {@link #AUTO}
     *     tiles only slices whose pass would not fit {@code maxMemory}
     * @param overlap pixels shared by neighbouring tiles (less than the tile)
     * @param maxMemory bytes a pass may take beyond the loaded model ({@link MemoryEstimate}); used by AUTO
     */
    public Restorer(RestoreRwkv model, NDManager manager, int batchSize, int tile, int overlap, long maxMemory) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1");
        }
        if (tile == AUTO ? overlap < 0 || overlap >= MIN_AUTO_TILE
                : tile != 0 && (tile < MULTIPLE || tile % MULTIPLE != 0 || overlap < 0 || overlap >= tile)) {
            throw new IllegalArgumentException("tile must be auto, 0 or a positive multiple of 8 with 0 <= overlap < tile"
                    + " (auto: overlap < " + MIN_AUTO_TILE + "), got tile " + tile + ", overlap " + overlap);
        }
        if (maxMemory < 1) {
            throw new IllegalArgumentException("the memory budget must be positive, got " + maxMemory);
        }
        this.model = model;
        this.manager = manager;
        this.batchSize = batchSize;
        this.tile = tile;
        this.overlap = overlap;
        this.maxMemory = maxMemory;
    }

    /**
     * How {@code slices} slices of {@code h x w} are restored: slices per pass, the tile side (0 =
     * whole slices), and the estimated peak memory of one pass against the budget.
     *
     * @throws IllegalArgumentException with AUTO, when not even a {@value #MIN_AUTO_TILE}-pixel tile fits the budget
     */
    public TilingPlan plan(int slices, int h, int w) {
        ModelConfig c = model.config();
        int nb = Math.max(1, Math.min(batchSize, slices));
        if (tile != AUTO) {
            int t = tile == 0 || (h <= tile && w <= tile) ? 0 : tile;
            return new TilingPlan(nb, t, overlap, MemoryEstimate.passBytes(c, nb, t == 0 ? h : Math.min(t, h),
                    t == 0 ? w : Math.min(t, w)), maxMemory);
        }
        while (nb > 1 && MemoryEstimate.passBytes(c, nb, h, w) > maxMemory) {
            nb--; // fewer whole slices per pass before any tiling: tiles cut the receptive field
        }
        long whole = MemoryEstimate.passBytes(c, nb, h, w);
        if (whole <= maxMemory) {
            return new TilingPlan(nb, 0, overlap, whole, maxMemory);
        }
        // the largest tile (multiple of 8) whose single-slice pass fits
        for (int t = Padding.roundUp(Math.max(h, w), MULTIPLE) - MULTIPLE; t >= MIN_AUTO_TILE; t -= MULTIPLE) {
            long b = MemoryEstimate.passBytes(c, 1, Math.min(t, h), Math.min(t, w));
            if (b <= maxMemory) {
                return new TilingPlan(1, t, overlap, b, maxMemory);
            }
        }
        throw new IllegalArgumentException(String.format(Locale.ROOT,
                "a memory budget of %d MB is too small: a %d x %d slice needs about %d MB, a %d-pixel tile %d MB",
                maxMemory >> 20, h, w, whole >> 20, MIN_AUTO_TILE,
                MemoryEstimate.passBytes(c, 1, Math.min(MIN_AUTO_TILE, h), Math.min(MIN_AUTO_TILE, w)) >> 20));
    }

    public RestoreRwkv model() {
        return model;
    }

    /**
     * Restores raw values (no normalization). Accepts (H, W), (D, H, W) = D single-channel slices,
     * or (N, C, H, W); returns the same shape.
     */
    public HostTensor restore(HostTensor in) {
        return restore(in, RestoreListener.NONE);
    }

    /**
     * As {@link #restore(HostTensor)}, reporting progress after every batch and stopping with a
     * {@link CancellationException} when the listener cancels or the thread is interrupted.
     */
    public HostTensor restore(HostTensor in, RestoreListener listener) {
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
        TilingPlan plan = plan(n, h, w);
        float[] out = new float[n * cout * h * w];
        int inPlane = cin * h * w;
        int outPlane = cout * h * w;
        for (int b0 = 0; b0 < n; b0 += plan.slicesPerPass()) {
            if (listener.cancelled() || Thread.currentThread().isInterrupted()) {
                throw new CancellationException("restoration cancelled after " + b0 + " of " + n + " slices");
            }
            int nb = Math.min(plan.slicesPerPass(), n - b0);
            float[] batch = Arrays.copyOfRange(src, b0 * inPlane, (b0 + nb) * inPlane);
            float[] y = restoreBatch(batch, nb, h, w, plan.tile());
            System.arraycopy(y, 0, out, b0 * outPlane, nb * outPlane);
            listener.progress(b0 + nb, n);
        }
        long[] os = s.clone();
        if (s.length == 4) {
            os[1] = cout;
        }
        return new HostTensor(os, out);
    }

    /**
     * nb images of (Cin, h, w) -> nb images of (Cout, h, w), in one pass or in tiles as
     * {@link #plan} decides for a single pass of nb images.
     */
    public float[] restoreBatch(float[] batch, int nb, int h, int w) {
        TilingPlan plan = plan(nb, h, w);
        if (plan.slicesPerPass() >= nb) {
            return restoreBatch(batch, nb, h, w, plan.tile());
        }
        int plane = model.config().outChannels() * h * w;
        int inPlane = model.config().inpChannels() * h * w;
        float[] out = new float[nb * plane];
        for (int b0 = 0; b0 < nb; b0 += plan.slicesPerPass()) {
            int k = Math.min(plan.slicesPerPass(), nb - b0);
            float[] y = restoreBatch(Arrays.copyOfRange(batch, b0 * inPlane, (b0 + k) * inPlane), k, h, w, plan.tile());
            System.arraycopy(y, 0, out, b0 * plane, k * plane);
        }
        return out;
    }

    /**
     * nb images restored whole (tile 0 or not larger than the tile) or tile by tile, so that
     * memory is bounded by the tile size, not the image size.
     */
    private float[] restoreBatch(float[] batch, int nb, int h, int w, int tile) {
        if (tile == 0 || (h <= tile && w <= tile)) {
            return restoreWhole(batch, nb, h, w);
        }
        int cin = model.config().inpChannels();
        int cout = model.config().outChannels();
        int th = Math.min(tile, h);
        int tw = Math.min(tile, w);
        float[] acc = new float[nb * cout * h * w];
        float[] weight = new float[h * w];
        float[] rampY = ramp(th, overlap);
        float[] rampX = ramp(tw, overlap);
        for (int y0 : starts(h, th, overlap)) {
            for (int x0 : starts(w, tw, overlap)) {
                float[] in = new float[nb * cin * th * tw];
                for (int p = 0; p < nb * cin; p++) {
                    for (int y = 0; y < th; y++) {
                        System.arraycopy(batch, (p * h + y0 + y) * w + x0, in, (p * th + y) * tw, tw);
                    }
                }
                float[] out = restoreWhole(in, nb, th, tw);
                // interior edges fade in; edges on the image border keep full weight
                for (int y = 0; y < th; y++) {
                    float wy = (y0 > 0 ? rampY[y] : 1) * (y0 + th < h ? rampY[th - 1 - y] : 1);
                    for (int x = 0; x < tw; x++) {
                        float wx = (x0 > 0 ? rampX[x] : 1) * (x0 + tw < w ? rampX[tw - 1 - x] : 1);
                        float wt = wy * wx;
                        int q = (y0 + y) * w + x0 + x;
                        weight[q] += wt;
                        for (int p = 0; p < nb * cout; p++) {
                            acc[p * h * w + q] += wt * out[(p * th + y) * tw + x];
                        }
                    }
                }
            }
        }
        for (int p = 0; p < nb * cout; p++) {
            for (int q = 0; q < h * w; q++) {
                acc[p * h * w + q] /= weight[q];
            }
        }
        return acc;
    }

    /** Tile origins along an axis of length n: step tile - overlap, the last one flush with the end. */
    static int[] starts(int n, int size, int overlap) {
        if (size >= n) {
            return new int[] {0};
        }
        int step = size - overlap;
        int count = (n - size + step - 1) / step + 1;
        int[] s = new int[count];
        for (int i = 0; i < count; i++) {
            s[i] = Math.min(i * step, n - size);
        }
        return s;
    }

    /** Raised-cosine fade-in over the first {@code overlap} pixels (never 0), then 1. */
    static float[] ramp(int size, int overlap) {
        float[] r = new float[size];
        for (int i = 0; i < size; i++) {
            r[i] = i < overlap ? (float) (0.5 - 0.5 * Math.cos(Math.PI * (i + 0.5) / overlap)) : 1f;
        }
        return r;
    }

    /** nb whole images: padded to a multiple of 8, one forward pass, cropped back. */
    private float[] restoreWhole(float[] batch, int nb, int h, int w) {
        int cin = model.config().inpChannels();
        int cout = model.config().outChannels();
        int ph = Padding.roundUp(h, MULTIPLE);
        int pw = Padding.roundUp(w, MULTIPLE);
        float[] padded = Padding.pad(batch, nb * cin, h, w, ph, pw);
        float[] y;
        // one pass at a time: a pass lends the weights to its scope and fills per-model caches
        synchronized (forwardLock) {
            // libtorch's grad mode is per thread and on in every thread but the one that started the
            // engine: without this, a pass from another thread would record a graph and miss the
            // inference path
            boolean grad = JniUtils.isGradMode();
            JniUtils.setGradMode(false);
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = NativeArrays.fromHost(scope, padded, new Shape(nb, cin, ph, pw));
                y = model.forward(x, false).toFloatArray();
            } finally {
                JniUtils.setGradMode(grad);
            }
        }
        return Padding.crop(y, nb * cout, ph, pw, h, w);
    }
}
