package org.restorerwkv.infer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.model.RestoreRwkv;
import org.restorerwkv.model.WkvKernel;

/**
 * Effective receptive field (paper Fig. 1): how strongly each input pixel moves the centre output
 * pixel. For every image x, with y = model(x) in inference mode,
 *
 * <pre>
 *   L = sum_c relu(y[c, h/2, w/2]);   g = sum_c relu(dL/dx[c])   (h, w)
 * </pre>
 *
 * and the map is g averaged over the images. It is shown as g^0.25 rescaled to [0,1]
 * ({@link GradientMap#display()}).
 *
 * <p>Images whose height or width is not a multiple of 8 (the U-Net's stride) are centre-cropped
 * to the largest multiple of 8 that fits, so the centre pixel stays the centre and no padding adds
 * pixels that are not in the image. Note that the global residual (y = f(x) + x) contributes 1 to
 * the centre pixel's own gradient wherever relu(y) is active.
 */
public final class EffectiveReceptiveField {

    private EffectiveReceptiveField() {}

    /** The averaged gradient map of {@code images} images of {@code height} x {@code width}. */
    public record GradientMap(int height, int width, float[] values, int images) {

        public GradientMap {
            if (values.length != height * width) {
                throw new IllegalArgumentException("map of " + height + "x" + width + " holds " + values.length + " values");
            }
        }

        /** Row of the centre output pixel whose gradient the map shows. */
        public int centreRow() {
            return height / 2;
        }

        public int centreColumn() {
            return width / 2;
        }

        /** The map as the paper shows it: values^0.25, rescaled from [min, max] to [0, 1]. */
        public float[] display() {
            float[] out = new float[values.length];
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < values.length; i++) {
                double v = Math.pow(values[i], 0.25);
                out[i] = (float) v;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            double span = hi - lo;
            for (int i = 0; i < out.length; i++) {
                // a constant map (e.g. all zero) shows as 0 everywhere
                out[i] = span > 0 ? (float) ((out[i] - lo) / span) : 0f;
            }
            return out;
        }

        /**
         * Several maps for side-by-side panels on one colour scale: each map divided by its total
         * (so the panels compare how the mass spreads, not the models' gains), then x^0.25, then
         * rescaled from the smallest to the largest value over all maps to [0, 1]. For one map this
         * equals {@link #display()}. An all-zero map stays 0.
         */
        public static List<float[]> displayShared(List<GradientMap> maps) {
            List<float[]> out = new ArrayList<>();
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (GradientMap m : maps) {
                double total = 0;
                for (float v : m.values) {
                    total += v;
                }
                float[] d = new float[m.values.length];
                for (int i = 0; i < d.length; i++) {
                    d[i] = total > 0 ? (float) Math.pow(m.values[i] / total, 0.25) : 0f;
                    lo = Math.min(lo, d[i]);
                    hi = Math.max(hi, d[i]);
                }
                out.add(d);
            }
            double span = hi - lo;
            for (float[] d : out) {
                for (int i = 0; i < d.length; i++) {
                    d[i] = span > 0 ? (float) ((d[i] - lo) / span) : 0f;
                }
            }
            return out;
        }

        /**
         * The smallest Euclidean distance r (pixels) from the centre pixel such that the pixels
         * within r hold at least {@code fraction} of the map's total; NaN if the map is all zero.
         */
        public double radiusContaining(double fraction) {
            if (!(fraction > 0 && fraction <= 1)) {
                throw new IllegalArgumentException("fraction must be in (0, 1], got " + fraction);
            }
            int n = values.length;
            double total = 0;
            long[] order = new long[n];
            int cy = centreRow();
            int cx = centreColumn();
            for (int i = 0; i < n; i++) {
                total += values[i];
                long dy = i / width - cy;
                long dx = i % width - cx;
                // squared distance in the high bits, index in the low 32: one sort orders both
                order[i] = (dy * dy + dx * dx) << 32 | i;
            }
            if (!(total > 0)) {
                return Double.NaN;
            }
            Arrays.sort(order);
            double target = fraction * total;
            double sum = 0;
            for (int j = 0; j < n; j++) {
                sum += values[(int) (order[j] & 0xffffffffL)];
                boolean lastAtThisDistance = j == n - 1 || (order[j + 1] >>> 32) != (order[j] >>> 32);
                // all pixels at one distance count together; 1e-9 absorbs the summation order
                if (lastAtThisDistance && sum >= target * (1 - 1e-9)) {
                    return Math.sqrt(order[j] >>> 32);
                }
            }
            return Math.sqrt(order[n - 1] >>> 32);
        }
    }

    /**
     * Computes the map over {@code images}: each (H, W) for a one-channel model or (C, H, W) with
     * C the model's input channels, all of one size, already normalized as the model expects. The
     * model runs in inference mode with the differentiable Bi-WKV; its kernel choice and the
     * parameters' gradient flags are restored afterwards, and no parameter gradient is touched.
     *
     * <p>Images run one per forward/backward pass: with libtorch 2.5.1's oneDNN on AVX-512 CPUs
     * the input gradient of a dense convolution over a batch of more than one image was found to
     * vary from run to run (even NaN), while single images are exact.
     *
     * @throws IllegalArgumentException for no images, mismatched shapes, images smaller than 8
     *     pixels or non-finite values
     */
    public static GradientMap compute(RestoreRwkv model, NDManager manager, List<HostTensor> images) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images to average over");
        }
        int cin = model.config().inpChannels();
        long[] first = images.get(0).shape();
        for (int i = 0; i < images.size(); i++) {
            long[] s = images.get(i).shape();
            boolean ok = s.length == 3 ? s[0] == cin : s.length == 2 && cin == 1;
            if (!ok) {
                throw new IllegalArgumentException("image " + i + " has shape " + Arrays.toString(s) + ": expected "
                        + (cin == 1 ? "(H, W) or (1, H, W)" : "(" + cin + ", H, W)"));
            }
            if (s[s.length - 1] != first[first.length - 1] || s[s.length - 2] != first[first.length - 2]) {
                throw new IllegalArgumentException("image " + i + " is " + s[s.length - 2] + "x" + s[s.length - 1]
                        + ", image 0 is " + first[first.length - 2] + "x" + first[first.length - 1] + ": all must have one size");
            }
            float[] d = images.get(i).data();
            for (int j = 0; j < d.length; j++) {
                if (!Float.isFinite(d[j])) {
                    throw new IllegalArgumentException("image " + i + " holds a non-finite value (" + d[j] + ") at index " + j);
                }
            }
        }
        int h0 = (int) first[first.length - 2];
        int w0 = (int) first[first.length - 1];
        int h = h0 / Restorer.MULTIPLE * Restorer.MULTIPLE;
        int w = w0 / Restorer.MULTIPLE * Restorer.MULTIPLE;
        if (h == 0 || w == 0) {
            throw new IllegalArgumentException("images of " + h0 + "x" + w0 + " are smaller than " + Restorer.MULTIPLE
                    + " pixels, the network's stride");
        }
        int top = (h0 - h) / 2;
        int left = (w0 - w) / 2;

        WkvKernel previous = model.wkvKernel();
        List<Parameter> unfrozen = new ArrayList<>();
        double[] sum = new double[h * w];
        try {
            // the fused Bi-WKV is not recorded by autograd
            model.setWkvKernel(WkvKernel.DIFFERENTIABLE);
            // only dL/dx is wanted: parameter gradients would cost time and accumulate in the model
            for (Parameter p : model.namedParameters().values()) {
                if (p.requiresGradient()) {
                    p.freeze(true);
                    unfrozen.add(p);
                }
            }
            for (HostTensor image : images) {
                float[] x = crop(image.data(), cin, h0, w0, top, left, h, w);
                float[] g = gradient(model, manager, x, cin, h, w);
                for (int i = 0; i < g.length; i++) {
                    sum[i] += g[i];
                }
            }
        } finally {
            for (Parameter p : unfrozen) {
                p.freeze(false);
            }
            model.setWkvKernel(previous);
        }
        float[] mean = new float[sum.length];
        for (int i = 0; i < sum.length; i++) {
            mean[i] = (float) (sum[i] / images.size());
        }
        return new GradientMap(h, w, mean, images.size());
    }

    /** relu(dL/dx) summed over channels for one image (cin, h, w) -> (h, w). */
    private static float[] gradient(RestoreRwkv model, NDManager manager, float[] data, int cin, int h, int w) {
        try (NDManager scope = manager.newSubManager()) {
            // a fresh input array per image: DJL accumulates gradients across collectors
            NDArray x = scope.create(data, new Shape(1, cin, h, w));
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = model.forward(x, false);
                NDArray centre = y.get(new NDIndex(":, :, {}, {}", h / 2, w / 2)); // (1, Cout)
                gc.backward(Activation.relu(centre).sum());
            }
            return Activation.relu(x.getGradient()).sum(new int[] {1}).toFloatArray();
        }
    }

    /** The h x w window at (top, left) of each of c planes of h0 x w0. */
    private static float[] crop(float[] src, int c, int h0, int w0, int top, int left, int h, int w) {
        float[] dst = new float[c * h * w];
        for (int k = 0; k < c; k++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(src, (k * h0 + top + y) * w0 + left, dst, (k * h + y) * w, w);
            }
        }
        return dst;
    }
}
