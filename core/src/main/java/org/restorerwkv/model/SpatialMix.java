package org.restorerwkv.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import java.util.function.Supplier;
import org.restorerwkv.wkv.BiWkv;
import org.restorerwkv.wkv.NativeArrays;
import org.restorerwkv.wkv.TokenLinear;
import org.restorerwkv.wkv.TokenOps;

/**
 * Spatial mix (Re-WKV attention) on tokens (B, T, C):
 *
 * <pre>
 * s = OmniShift(x);  k = s Wk^T;  v = s Wv^T;  r = s Wr^T
 * for j in 0..R-1:  v = BiWKV(spatial_decay[j]/T, spatial_first[j]/T, k, v)
 *                   (row-major scan for even j, column-major for odd j)
 * out = (sigmoid(r) * v) Wo^T
 * </pre>
 *
 * With another {@link TokenShift}, k, v and r read their own inputs (see {@link TokenMixer}).
 * R = 1 is plain Bi-WKV (one row-major scan), R &gt;= 2 Re-WKV.
 */
final class SpatialMix extends TokenMixer {

    private final int recurrence;
    private final Parameter spatialDecay;
    private final Parameter spatialFirst;
    private final Linear key;
    private final Linear value;
    private final Linear receptance;
    private final Linear output;
    private WkvKernel kernel = WkvKernel.AUTO;

    public SpatialMix(int channels, int recurrence) {
        this(channels, recurrence, TokenShift.OMNI, 0, 1);
    }

    /** layer of layers: the block's place in its stage, for Quad/Uni's initial mixes. */
    SpatialMix(int channels, int recurrence, TokenShift shift, int layer, int layers) {
        super(shift, channels);
        this.recurrence = recurrence;
        spatialDecay = param("spatial_decay", standardNormal(), recurrence, channels);
        spatialFirst = param("spatial_first", standardNormal(), recurrence, channels);
        // Vision-RWKV's fancy init of spatial_mix_k, _v, _r
        addShift(new String[] {"k", "v", "r"}, new double[] {1, 1, 0.5}, new double[] {0, 0.3, 0}, layer, layers);
        key = child("key", Layers.linear(channels, channels), Layers.tokens(channels));
        value = child("value", Layers.linear(channels, channels), Layers.tokens(channels));
        receptance = child("receptance", Layers.linear(channels, channels), Layers.tokens(channels));
        output = child("output", Layers.linear(channels, channels), Layers.tokens(channels));
    }

    void setKernel(WkvKernel kernel) {
        this.kernel = kernel;
    }

    /** x: LayerNorm'd tokens (B, T=h*w, C) -> (B, T, C). */
    @Override
    NDArray forwardTokens(ParameterStore ps, NDArray x, long h, long w, boolean training) {
        long len = h * w;
        NDArray[] s = projectionInputs(ps, x, h, w, training, 3); // (B,T,C) each
        NDArray k = run(key, ps, s[0], training);
        NDArray v = run(value, ps, s[1], training);
        NDArray r = Activation.sigmoid(run(receptance, ps, s[2], training));
        // divided by a libtorch-owned scalar: DJL's div(Number) frees its scalar under the backward
        NDArray sd = ps.getValue(spatialDecay, x.getDevice(), training);
        NDArray sf = ps.getValue(spatialFirst, x.getDevice(), training);
        NDArray decay = sd.div(NativeArrays.scalarLike(sd, len)); // (R,C)
        NDArray first = sf.div(NativeArrays.scalarLike(sf, len));
        decay.attach(x.getManager()); // per-call values: not on the model's manager
        first.attach(x.getManager());
        boolean cpu = x.getDevice().equals(Device.cpu());
        if (training && tape != null && kernel != WkvKernel.DIFFERENTIABLE && cpu) {
            return run(output, ps, r.mul(fusedRecurrences(k, v, decay, first, h, w)), training);
        }
        // no gradient recorded (a checkpointed block's first pass): the fused kernel serves training too
        boolean fused = (!training || !JniUtils.isGradMode()) && kernel != WkvKernel.DIFFERENTIABLE
                && (kernel == WkvKernel.FUSED || cpu);
        for (int j = 0; j < recurrence; j++) {
            NDArray wj = decay.get(j);
            NDArray uj = first.get(j);
            boolean columnMajor = j % 2 == 1;
            if (fused) {
                v = BiWkv.fused(wj, uj, k, v, (int) h, (int) w, columnMajor);
            } else if (!columnMajor) {
                v = BiWkv.differentiable(wj, uj, k, v);
            } else {
                v = rowMajor(BiWkv.differentiable(wj, uj, colMajor(k, h, w), colMajor(v, h, w)), h, w);
            }
        }
        return run(output, ps, r.mul(v), training);
    }

    /** Set by the block while a segmented backward is recorded (see {@link BlockSegments}), else null. */
    WkvTape tape;

    /**
     * Training on CPU with the fused Bi-WKV pair: the R recurrences run forward in the fused kernel on
     * host copies of k and v, and their result enters the graph as a leaf. Its backward goes on the
     * tape: once the leaf's gradient is known, {@link BiWkv#fusedBackward} runs the recurrences
     * backward, and the gradients of k, v, w = decay / T and u = first / T come back as one target,
     * sum(k gk) + sum(v gv) + sum(w gw) + sum(u gu), whose backward carries them on through autograd.
     */
    private NDArray fusedRecurrences(NDArray k, NDArray v, NDArray decay, NDArray first, long h, long w) {
        Shape shape = k.getShape(); // (B, T, C)
        int bsz = (int) shape.get(0);
        int c = channels;
        float[] kh = k.toFloatArray();
        float[] dh = decay.toFloatArray(); // (R, C), already / T
        float[] fh = first.toFloatArray();
        float[][] vs = new float[recurrence + 1][]; // v of recurrence j; vs[R] = y
        vs[0] = v.toFloatArray();
        float[][] ws = new float[recurrence][];
        float[][] us = new float[recurrence][];
        for (int j = 0; j < recurrence; j++) {
            ws[j] = java.util.Arrays.copyOfRange(dh, j * c, (j + 1) * c);
            us[j] = java.util.Arrays.copyOfRange(fh, j * c, (j + 1) * c);
            vs[j + 1] = new float[kh.length];
            BiWkv.fused(ws[j], us[j], kh, vs[j], vs[j + 1], bsz, (int) h, (int) w, c, j % 2 == 1);
        }
        // libtorch-owned copies (see NativeArrays)
        NDArray y = NativeArrays.fromHost(k.getManager(), vs[recurrence], shape);
        y.setRequiresGradient(true);
        tape.add(() -> {
            float[] gy = y.getGradient().toFloatArray();
            float[] gk = new float[kh.length];
            float[] gkj = new float[kh.length];
            float[] gv = new float[kh.length];
            float[] gw = new float[recurrence * c];
            float[] gu = new float[recurrence * c];
            for (int j = recurrence - 1; j >= 0; j--) {
                double[] gwj = new double[c];
                double[] guj = new double[c];
                BiWkv.fusedBackward(ws[j], us[j], kh, vs[j], vs[j + 1], gy, gkj, gv, gwj, guj, bsz, (int) h, (int) w,
                        c, j % 2 == 1);
                for (int i = 0; i < gk.length; i++) {
                    gk[i] += gkj[i];
                }
                for (int i = 0; i < c; i++) {
                    gw[j * c + i] = (float) gwj[i];
                    gu[j * c + i] = (float) guj[i];
                }
                float[] t = gy; // dL/d(the v of recurrence j) is dL/d(the y of recurrence j - 1)
                gy = gv;
                gv = t;
            }
            NDManager m = k.getManager();
            Shape rc = decay.getShape();
            return k.mul(NativeArrays.fromHost(m, gk, shape)).sum().add(v.mul(NativeArrays.fromHost(m, gy, shape)).sum())
                    .add(decay.mul(NativeArrays.fromHost(m, gw, rc)).sum())
                    .add(first.mul(NativeArrays.fromHost(m, gu, rc)).sum());
        });
        return y;
    }

    /** True when inference may take the channels-last fast path with the fused kernels. */
    boolean fastPath() {
        return kernel != WkvKernel.DIFFERENTIABLE;
    }

    /**
     * Inference fast path on channels-last tokens x (B*h*w, C), in place:
     * {@code x += gamma * SpatialMix(LayerNorm(x))}. k, v and r come from one matmul with the
     * three weights stacked; Omni-Shift, Bi-WKV and the gate run as fused Java kernels.
     *
     * <p>Image-sized buffers: normed, the block's shift buffer, kvr (3C wide) and wkv. The later
     * recurrences write the shift buffer (dead once k, v and r are made) and the output projection
     * whichever of the two the last recurrence left free, so the widest level needs 6C floats a
     * token, not 7C (the default model's level 1 at 512 x 512: 100 MB less heap). Projecting r into
     * normed instead would save one more C but splits the stacked product into two narrower ones,
     * measured 5-15% slower at 256 x 256.
     */
    void forwardFast(float[] x, float[] gamma, TokenLayerNorm ln, int bsz, int h, int w, NDManager manager) {
        HostBuffers hb = HostBuffers.get();
        int rows = bsz * h * w;
        int c = channels;
        float[] normed = hb.floats("normed", (long) rows * c);
        ln.forwardFast(x, normed, rows);
        float[] shifted = shiftFast(hb, normed, bsz, h, w);
        float[] kvr = hb.floats("kvr", (long) rows * 3 * c);
        float[] y = hb.floats("wkv", (long) rows * c);
        if (sharedInput()) {
            try (NDManager scope = manager.newSubManager()) {
                // (rows, 3C): k | v | r, the three weights stacked (3C, C)
                project(hb, host, "kvr", shifted, c, () -> {
                    NDArray stacked = NDArrays.concat(new NDList(weight(key), weight(value), weight(receptance)), 0);
                    stacked.attach(scope); // concat puts it on the parameters' manager
                    return stacked;
                }, kvr, 3 * c, rows, limits, scope);
            }
        } else {
            // Quad/Uni: each projection reads its own mix; the results pass through wkv (free until
            // the Bi-WKV) to their columns of kvr
            Linear[] lins = {key, value, receptance};
            String[] names = {"key", "value", "receptance"};
            for (int p = 0; p < 3; p++) {
                Linear l = lins[p];
                project(hb, host, names[p], inputFast(hb, p, normed, shifted, rows), c, () -> weight(l), y, c, rows,
                        limits, manager);
                for (int t = 0; t < rows; t++) {
                    System.arraycopy(y, t * c, kvr, t * 3 * c + p * c, c);
                }
            }
        }
        float[] decay = host.get("decay", () -> spatialDecay.getArray().toFloatArray()); // (R, C)
        float[] first = host.get("first", () -> spatialFirst.getArray().toFloatArray());
        // recurrences after the first read the previous y as v and write the other of y and the
        // shift buffer: out != v lets the kernel keep exp(k) in out between its steps
        float[] other = shifted;
        long len = (long) h * w;
        for (int j = 0; j < recurrence; j++) {
            float[] wj = new float[c];
            float[] uj = new float[c];
            for (int i = 0; i < c; i++) {
                wj[i] = decay[j * c + i] / len;
                uj[i] = first[j * c + i] / len;
            }
            if (j == 0) {
                BiWkv.fused(wj, uj, kvr, 0, 3 * c, kvr, c, 3 * c, y, c, bsz, h, w, c, false);
            } else {
                BiWkv.fused(wj, uj, kvr, 0, 3 * c, y, 0, c, other, c, bsz, h, w, c, j % 2 == 1);
                float[] t = y;
                y = other;
                other = t;
            }
        }
        TokenOps.gate(y, kvr, 2 * c, 3 * c, rows, c);
        float[] out = other; // free: the last recurrence read it or never used it
        project(hb, host, "output", y, c, () -> weight(output), out, c, rows, limits, manager);
        TokenOps.residual(x, gamma, out, rows, c);
    }

    /**
     * out (rows, n) = x (rows, k) W^T for a bias-free Linear weight W (n, k): {@link TokenLinear} on
     * W^T kept in {@code host} as {@code name} where it is the faster one, else libtorch on row chunks.
     * W's array (made on the caller's manager if new) is asked for only when it is needed.
     */
    static void project(HostBuffers hb, HostWeights host, String name, float[] x, int k, Supplier<NDArray> w,
                        float[] out, int n, int rows, KernelLimits limits, NDManager manager) {
        project(limits.linearInJava(k, n), hb, host, name, x, k, w, out, n, rows, limits, manager);
    }

    /** {@link #project} in Java ({@code java}) or by libtorch. */
    static void project(boolean java, HostBuffers hb, HostWeights host, String name, float[] x, int k,
                        Supplier<NDArray> w, float[] out, int n, int rows, KernelLimits limits, NDManager manager) {
        if (java) {
            float[] wt = host.get(name, () -> TokenLinear.transpose(w.get().toFloatArray(), n, k));
            hb.matmul((double) rows * k * n, () -> TokenLinear.linear(x, wt, k, n, out, rows));
        } else {
            NDArray wa = w.get();
            hb.matmul((double) rows * k * n, () -> hb.chunked(x, k, out, n, rows, n, limits.chunkFloats(), manager,
                    s -> Linear.linear(s, wa).singletonOrThrow()));
        }
    }

    /**
     * Largest K x N of a block's linear layer (k, v, r stacked: N = 3C; the channel MLP: C x 4C) whose
     * product {@link #project} computes in Java ({@link TokenLinear}); wider ones go to libtorch on row
     * chunks. Covers every layer of the default model: measured there (256², 2 threads, `bench --stages`,
     * one process each), levels 3 and 4 took 376 / 372 / 316 ms (encoder_level3, latent,
     * decoder_level3) with libtorch above K N = 65536 and 180 / 267 / 172 ms all in Java.
     */
    static final long JAVA_LINEAR_MAX = 1L << 20;

    static NDArray weight(Linear l) {
        return l.getParameters().get("weight").getArray();
    }

    /** Row-major tokens (t = y*W + x) -> column-major tokens (t' = x*H + y). */
    static NDArray colMajor(NDArray t, long h, long w) {
        long b = t.getShape().get(0);
        long c = t.getShape().get(2);
        return t.reshape(b, h, w, c).transpose(0, 2, 1, 3).reshape(b, h * w, c);
    }

    /** Column-major tokens -> row-major tokens. */
    static NDArray rowMajor(NDArray t, long h, long w) {
        long b = t.getShape().get(0);
        long c = t.getShape().get(2);
        return t.reshape(b, w, h, c).transpose(0, 2, 1, 3).reshape(b, h * w, c);
    }

    public int channels() {
        return channels;
    }
}
