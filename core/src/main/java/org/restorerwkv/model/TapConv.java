package org.restorerwkv.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.function.Supplier;
import org.restorerwkv.wkv.NarrowConv;
import org.restorerwkv.wkv.NativeArrays;
import org.restorerwkv.wkv.TokenOps;

/**
 * nn.Conv2d(in, out, k, padding=k/2, bias) (stride 1, zero padding, groups 1) computed as one
 * (out, k*k*in) x (k*k*in, H*W) matrix product over the k*k shifted copies of the input stacked
 * (im2col; in inference in bands of rows), keys {@code weight}, {@code bias}.
 *
 * <p>Why not libtorch's convolution: on AVX-512 CPUs (seen on AMD EPYC) libtorch 2.5.1 routes
 * dense float convolutions through oneDNN, whose backward returns wrong (run-to-run varying,
 * sometimes NaN) input gradients, and whose forward is wrong too once limited to AVX2. Matrix
 * products go to the BLAS and are exact; depthwise convolutions are not affected.
 */
public final class TapConv extends AbstractBlock implements DerivedWeights {

    private final int in;
    private final int out;
    private final int kernel;
    private final Parameter weight;
    private final Parameter bias;

    public TapConv(int in, int out, int kernel, boolean withBias) {
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        Shape weightShape = new Shape(out, in, kernel, kernel);
        weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT)
                .optShape(weightShape).build());
        bias = withBias ? addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BIAS)
                .optShape(new Shape(out)).build()) : null;
        TorchInit.init(this, weightShape); // PyTorch's default initialization
    }

    /** x (B, in, H, W) -> (B, out, H, W). */
    public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        NDArray w = ps.getValue(weight, x.getDevice(), training); // (out, in, k, k)
        return conv(x, w, bias == null ? null : ps.getValue(bias, x.getDevice(), training), kernel, limits);
    }

    /** The convolution itself, on explicit weights. */
    static NDArray conv(NDArray x, NDArray w, NDArray b, int kernel, KernelLimits limits) {
        Shape s = x.getShape();
        long bsz = s.get(0);
        long cin = s.get(1);
        long h = s.get(2);
        long wd = s.get(3);
        long cout = w.getShape().get(0);
        int p = kernel / 2;
        NDArray y;
        if (kernel > 1 && JniUtils.isGradMode() && cin * cout <= GROUPED_MAX) {
            // training, few channel pairs: a grouped convolution (each input channel convolved with its
            // cout kernels, oneDNN's depthwise path, exact here unlike its dense one; TapConvTest) then
            // the sum over input channels. Its output is cin times wider, so only for small cin x cout
            return grouped(x, w, b, kernel, bsz, cin, cout, h, wd);
        }
        if (kernel > 1 && JniUtils.isGradMode() && h * wd <= FLOAT64_MAX_PIXELS) {
            return float64(x, w, b, kernel);
        }
        if (kernel == 1) {
            y = w.reshape(cout, cin).matMul(x.reshape(bsz, cin, h * wd)); // (B, out, HW)
        } else if (!JniUtils.isGradMode() && cout <= NarrowConv.MAX_OUT && x.getDevice().equals(Device.cpu())
                && x.getDataType() == DataType.FLOAT32) {
            return narrow(x, w, b, kernel, bsz, cin, cout, h, wd);
        } else if (!JniUtils.isGradMode()) {
            y = im2col(x, w, kernel, bsz, cin, cout, h, wd, limits.im2colMaxFloats());
        } else if (bsz * kernel * kernel * cin * h * wd <= limits.stackedTrainingMaxFloats()) {
            // training: the same stacked product inside autograd, where the stack is small
            NDArray xp = x.pad(new Shape(p, p, p, p), 0); // (B, in, H+2p, W+2p)
            NDList taps = new NDList(kernel * kernel);
            for (int dy = 0; dy < kernel; dy++) {
                for (int dx = 0; dx < kernel; dx++) {
                    taps.add(xp.get(new NDIndex(":, :, {}:{}, {}:{}", dy, dy + h, dx, dx + wd)));
                }
            }
            NDArray cols = NDArrays.stack(taps, 1).reshape(bsz, kernel * kernel * cin, h * wd);
            y = w.transpose(0, 2, 3, 1).reshape(cout, kernel * kernel * cin).matMul(cols); // (B, out, HW)
        } else {
            // training on large planes: one product per tap, whose gradients exist one tap at a time
            NDArray xp = x.pad(new Shape(p, p, p, p), 0); // (B, in, H+2p, W+2p)
            y = null;
            for (int dy = 0; dy < kernel; dy++) {
                for (int dx = 0; dx < kernel; dx++) {
                    NDArray tap = w.get(new NDIndex(":, :, {}, {}", dy, dx)); // (out, in)
                    NDArray shifted = xp.get(new NDIndex(":, :, {}:{}, {}:{}", dy, dy + h, dx, dx + wd))
                            .reshape(bsz, cin, h * wd);
                    NDArray term = tap.matMul(shifted); // (B, out, HW)
                    y = y == null ? term : y.add(term);
                }
            }
        }
        if (b != null) {
            y = y.add(b.reshape(1, cout, 1));
        }
        return y.reshape(bsz, cout, h, wd);
    }

    /**
     * Inference on channels-last host tokens: x (B*h*w, in) -> out (B*h*w, out). A 1x1 conv is one
     * product; a k x k one is im2col ({@link TokenOps#im2col}) in bands of at most
     * {@link #TOKEN_BAND_FLOATS} and one product per band, each by {@link SpatialMix#project} (Java
     * or libtorch, whichever is faster for the weight's shape). No array is allocated after the first
     * call: the bands and the weights' host copies are reused.
     */
    void forwardTokens(float[] x, int bsz, int h, int w, float[] y, NDManager manager) {
        HostBuffers hb = HostBuffers.get();
        int rows = bsz * h * w;
        int k = kernel * kernel * in; // (dy, dx, in) per output pixel
        try (NDManager scope = manager.newSubManager()) {
            Supplier<NDArray> matrix = () -> { // (out, (dy, dx, in)), asked for only where it is needed
                NDArray m = weight.getArray().transpose(0, 2, 3, 1).reshape(out, k);
                m.attach(scope); // derived from the parameter: on its manager otherwise
                return m;
            };
            boolean java = (long) k * out <= limits.javaProductMax();
            if (kernel == 1) {
                SpatialMix.project(java, hb, host, "matrix", x, k, matrix, y, out, rows, limits, scope);
            } else {
                int band = (int) Math.max(1, Math.min(rows, limits.tokenBandFloats() / Math.max(k, out)));
                float[] cols = hb.floats("im2col", (long) band * k);
                float[] part = hb.floats("im2col.out", (long) band * out);
                for (int t0 = 0; t0 < rows; t0 += band) {
                    int n = Math.min(band, rows - t0);
                    TokenOps.im2col(x, h, w, in, kernel, t0, n, cols);
                    SpatialMix.project(java, hb, host, "matrix", cols, k, matrix, part, out, n, limits, scope);
                    System.arraycopy(part, 0, y, t0 * out, n * out);
                }
            }
        }
        if (bias != null) {
            TokenOps.addBias(y, host.get("bias", () -> bias.getArray().toFloatArray()), rows, out);
        }
    }

    /**
     * Inference: tokens x (B*h*w, in) -> planes y (B, out, h, w); {@code scratch} holds B*h*w*max(in,
     * out) floats. Few output channels (the model's last conv) go through {@link NarrowConv} on planes,
     * which reads each input row k*k times from cache instead of writing k*k copies of it.
     */
    void forwardToPlanes(float[] x, int bsz, int h, int w, float[] scratch, float[] y, NDManager manager) {
        if (kernel > 1 && out <= NarrowConv.MAX_OUT) {
            TokenOps.toPlanes(x, scratch, bsz, h * w, in);
            NarrowConv.conv(scratch, bsz, in, h, w, host.get("weight", () -> weight.getArray().toFloatArray()),
                    bias == null ? null : host.get("bias", () -> bias.getArray().toFloatArray()), out, kernel, y);
        } else {
            forwardTokens(x, bsz, h, w, scratch, manager);
            TokenOps.toPlanes(scratch, y, bsz, h * w, out);
        }
    }

    /**
     * Largest k*k*in x out weight whose product {@link #forwardTokens} computes in Java
     * ({@link TokenLinear}); larger ones go to libtorch. Higher than for the blocks' linear layers
     * ({@link SpatialMix#JAVA_LINEAR_MAX}): im2col's long rows give the Java kernel more work per output.
     * Measured in the model (2 threads, 256²): the light model's convolutions (up to 1152 x 256) all
     * in Java as fast as with libtorch; the default model's widest (1728 x 384, 3456 x 768) 0.4 s
     * slower in Java.
     */
    static final long JAVA_PRODUCT_MAX = 1L << 19;


    /** Sizes that choose between equivalent code paths ({@link KernelLimits#apply}). */
    KernelLimits limits = KernelLimits.DEFAULT;

    /** Host copies of the weights for {@link #forwardTokens}, until {@link #weightsChanged}. */
    private final HostWeights host = new HostWeights();

    @Override
    public void weightsChanged() {
        host.clear();
    }

    /**
     * Largest im2col band of {@link #forwardTokens} (floats, 16 MB): big enough that a band's product
     * runs at the matmul's speed, small enough to stay near the cache and bound memory at any size.
     */
    static final long TOKEN_BAND_FLOATS = 1L << 22;


    /**
     * Inference: the k*k shifted copies stacked into one (B, k*k*in, rows*W) matrix and one product
     * with the weight as (out, k*k*in), instead of k*k products of inner size {@code in} (1 to 64 in
     * the light model, where the BLAS is far from its peak) and k*k - 1 accumulations. Done in bands
     * of rows whose stacked matrix holds at most {@link KernelLimits#im2colMaxFloats}, so memory stays bounded and
     * time per pixel is the same at every image size.
     */
    private static NDArray im2col(NDArray x, NDArray w, int kernel, long bsz, long cin, long cout, long h, long wd,
                                  long maxFloats) {
        int p = kernel / 2;
        long perRow = bsz * kernel * kernel * cin * wd;
        long band = Math.max(1, Math.min(h, maxFloats / perRow));
        try (NDManager scope = x.getManager().newSubManager()) {
            NDArray xp = x.pad(new Shape(p, p, p, p), 0); // (B, in, H+2p, W+2p)
            xp.attach(scope);
            NDArray wm = w.transpose(0, 2, 3, 1).reshape(cout, kernel * kernel * cin); // (out, (dy, dx, in))
            wm.attach(scope);
            NDList bands = new NDList();
            for (long r0 = 0; r0 < h; r0 += band) {
                long r1 = Math.min(h, r0 + band);
                NDList taps = new NDList(kernel * kernel);
                for (int dy = 0; dy < kernel; dy++) {
                    for (int dx = 0; dx < kernel; dx++) {
                        NDArray t = xp.get(new NDIndex(":, :, {}:{}, {}:{}", r0 + dy, r1 + dy, dx, dx + wd));
                        t.attach(scope);
                        taps.add(t); // (B, in, rows, W)
                    }
                }
                NDArray stacked = NDArrays.stack(taps, 1); // (B, k*k, in, rows, W)
                taps.forEach(NDArray::close);
                NDArray cols = stacked.reshape(bsz, kernel * kernel * cin, (r1 - r0) * wd);
                NDArray out = wm.matMul(cols); // (B, out, rows*W)
                cols.close();
                stacked.close(); // one band's stacked matrix alive at a time
                out.attach(scope);
                bands.add(out);
            }
            NDArray y = bands.size() == 1 ? bands.get(0) : NDArrays.concat(bands, 2); // (B, out, HW)
            y.attach(x.getManager());
            return y;
        }
    }

    /** Inference with few output channels: {@link NarrowConv} on the planes in Java arrays. */
    private static NDArray narrow(NDArray x, NDArray w, NDArray b, int kernel, long bsz, long cin, long cout, long h,
                                  long wd) {
        HostBuffers hb = HostBuffers.get();
        // the blocks' buffers are free between stages (as Stage uses them): no image-sized slots of its own
        float[] in = HostBuffers.read(x, hb.floats("shifted", x.size()));
        float[] y = hb.floats("normed", bsz * cout * h * wd);
        NarrowConv.conv(in, (int) bsz, (int) cin, (int) h, (int) wd, w.toFloatArray(), b == null ? null : b.toFloatArray(),
                (int) cout, kernel, y);
        return NativeArrays.fromHost(x.getManager(), y, new Shape(bsz, cout, h, wd));
    }

    /**
     * Largest stacked matrix (floats) of one band of {@link #im2col} (64 MB; at least one row is
     * stacked whatever its size).
     */
    static final long IM2COL_MAX_FLOATS = 1L << 24;


    /**
     * Largest stacked matrix (floats) for the stacked form in training; above it the tap-wise form.
     * The stack and its gradient both live in the backward pass: measured, default model, one 256²
     * slice with checkpointing, 11.4 GB peak stacked against 8.5 GB tap-wise (34.5 vs 31.6 s), while
     * the light model's batch of 4 at 128² (stacks up to 19M floats) trains faster stacked.
     */
    static final long STACKED_TRAINING_MAX_FLOATS = 1L << 25;


    /**
     * Largest cin x cout for the grouped form in training. Measured (forward + backward, 2 threads): 1
     * x 16 at 128², batch 4: 5.0 vs 40.5 ms tap-wise; 16 x 8: 33.5 vs 46.2 ms; 32 x 16 at 64²: 37.7
     * vs 28.4 ms, where the tap-wise form wins.
     */
    static final int GROUPED_MAX = 256;

    /**
     * Largest plane (H W) for the float64 form in training: libtorch's float64 convolution does not go
     * through oneDNN, so it is exact, and on small planes it beats the tap-wise form (forward +
     * backward, 2 threads, batch 4: 64->32 at 32² 11.1 vs 26.4 ms, 64->128 at 16² 7.7 vs 15.9 ms;
     * 32->16 at 64² 37.2 vs 33.5 ms, where the tap-wise form wins).
     */
    static final long FLOAT64_MAX_PIXELS = 32 * 32;

    /** The convolution in float64, cast back to the input's type inside autograd. */
    private static NDArray float64(NDArray x, NDArray w, NDArray b, int kernel) {
        NDArray one = x.getManager().ones(new Shape(1), DataType.FLOAT64); // type promotion keeps the graph
        NDArray y = Conv2d.conv2d(x.mul(one), w.mul(one), b == null ? null : b.mul(one),
                new Shape(1, 1), new Shape(kernel / 2, kernel / 2)).singletonOrThrow();
        NDArray out = x.getManager().zeros(y.getShape(), x.getDataType());
        out.set(new NDIndex("..."), y); // index_put: the cast stays on the autograd tape
        return out;
    }

    private static NDArray grouped(NDArray x, NDArray w, NDArray b, int kernel, long bsz, long cin, long cout, long h,
            long wd) {
        NDArray wg = w.transpose(1, 0, 2, 3).reshape(cin * cout, 1, kernel, kernel); // (cin*cout, 1, k, k)
        NDArray y = Conv2d.conv2d(x, wg, null, new Shape(1, 1), new Shape(kernel / 2, kernel / 2),
                new Shape(1, 1), (int) cin).singletonOrThrow(); // (B, cin*cout, H, W)
        y = y.reshape(bsz, cin, cout, h * wd).sum(new int[] {1});
        if (b != null) {
            y = y.add(b.reshape(1, cout, 1));
        }
        return y.reshape(bsz, cout, h, wd);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(forward(ps, inputs.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), out, s.get(2), s.get(3))};
    }

    public int inChannels() {
        return in;
    }

    public int outChannels() {
        return out;
    }
}
