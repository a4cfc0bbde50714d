package org.restorerwkv.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.wkv.NativeArrays;
import org.restorerwkv.wkv.TokenOps;

/**
 * Restore-RWKV (paper Fig. 2): a 4-level U-Net of RWKV blocks with a global residual.
 *
 * <pre>
 * x (B,Cin,H,W), H and W multiples of 8
 * e1  = encoder_level1(patch_embed(x))                      d,  H
 * e2  = encoder_level2(down1_2(e1))                         2d, H/2
 * e3  = encoder_level3(down2_3(e2))                         4d, H/4
 * lat = latent(down3_4(e3))                                 8d, H/8
 * d3  = decoder_level3(reduce_chan_level3([up4_3(lat), e3]))  4d, H/4
 * d2  = decoder_level2(reduce_chan_level2([up3_2(d3), e2]))   2d, H/2
 * d1  = decoder_level1([up2_1(d2), e1])                     2d, H   (no channel reduction)
 * y   = output(refinement(d1)) + x
 * </pre>
 *
 * Parameters are keyed exactly as the reference's PyTorch state_dict ({@link #namedParameters()}).
 */
public final class RestoreRwkv extends Module {

    private final ModelConfig config;
    private final TapConv patchEmbed;
    private final Stage encoderLevel1;
    private final Resample down12;
    private final Stage encoderLevel2;
    private final Resample down23;
    private final Stage encoderLevel3;
    private final Resample down34;
    private final Stage latent;
    private final Resample up43;
    private final TapConv reduceChanLevel3;
    private final Stage decoderLevel3;
    private final Resample up32;
    private final TapConv reduceChanLevel2;
    private final Stage decoderLevel2;
    private final Resample up21;
    private final Stage decoderLevel1;
    private final Stage refinement;
    private final TapConv output;
    private WkvKernel wkvKernel = WkvKernel.AUTO;

    /** Builds the block tree; call {@link #initialize(NDManager, long)} before use. */
    public RestoreRwkv(ModelConfig c) {
        this.config = c;
        int d = c.dim();
        int[] n = c.numBlocks();
        int r = c.recurrence();
        int hr = c.hiddenRate();
        TokenShift ts = c.tokenShift();
        patchEmbed = child("patch_embed", new TapConv(c.inpChannels(), d, 3, true), Layers.image(c.inpChannels()));
        encoderLevel1 = child("encoder_level1", new Stage(n[0], d, r, hr, ts), Layers.image(d));
        down12 = child("down1_2", Resample.down(d), Layers.image(d));
        encoderLevel2 = child("encoder_level2", new Stage(n[1], 2 * d, r, hr, ts), Layers.image(2 * d));
        down23 = child("down2_3", Resample.down(2 * d), Layers.image(2 * d));
        encoderLevel3 = child("encoder_level3", new Stage(n[2], 4 * d, r, hr, ts), Layers.image(4 * d));
        down34 = child("down3_4", Resample.down(4 * d), Layers.image(4 * d));
        latent = child("latent", new Stage(n[3], 8 * d, r, hr, ts), Layers.image(8 * d));
        up43 = child("up4_3", Resample.up(8 * d), Layers.image(8 * d));
        reduceChanLevel3 = child("reduce_chan_level3", new TapConv(8 * d, 4 * d, 1, true), Layers.image(8 * d));
        decoderLevel3 = child("decoder_level3", new Stage(n[2], 4 * d, r, hr, ts), Layers.image(4 * d));
        up32 = child("up3_2", Resample.up(4 * d), Layers.image(4 * d));
        reduceChanLevel2 = child("reduce_chan_level2", new TapConv(4 * d, 2 * d, 1, true), Layers.image(4 * d));
        decoderLevel2 = child("decoder_level2", new Stage(n[1], 2 * d, r, hr, ts), Layers.image(2 * d));
        up21 = child("up2_1", Resample.up(2 * d), Layers.image(2 * d));
        decoderLevel1 = child("decoder_level1", new Stage(n[0], 2 * d, r, hr, ts), Layers.image(2 * d));
        refinement = child("refinement", new Stage(c.numRefinementBlocks(), 2 * d, r, hr, ts), Layers.image(2 * d));
        output = child("output", new TapConv(2 * d, c.outChannels(), 3, true), Layers.image(2 * d));
    }

    /** A model with PyTorch-default random weights drawn from {@code seed}. */
    public static RestoreRwkv create(ModelConfig c, NDManager manager, long seed) {
        RestoreRwkv m = new RestoreRwkv(c);
        m.initialize(manager, seed);
        return m;
    }

    public void initialize(NDManager manager, long seed) {
        Engine.getInstance().setRandomSeed((int) seed);
        initialize(manager, DataType.FLOAT32, Layers.image(config.inpChannels()));
        weightsChanged();
    }

    /**
     * Allocates the parameters as zeros for a state dict that {@link #load} fills next: draws no
     * random numbers and leaves libtorch's global generator as it was (loading a model for
     * inference must not change a caller's random stream).
     */
    public void initializeForLoading(NDManager manager) {
        setInitializer(Initializer.ZEROS, p -> true);
        initialize(manager, DataType.FLOAT32, Layers.image(config.inpChannels()));
        weightsChanged();
    }

    public ModelConfig config() {
        return config;
    }

    /**
     * Runs the network: x (B, Cin, H, W) with H, W multiples of 8 -> (B, Cout, H, W). Everything the
     * pass creates, including arrays derived from parameters, belongs to x's manager.
     */
    public NDArray forward(NDArray x, boolean training) {
        lendParameters(x.getManager());
        return forward(new ParameterStore(x.getManager(), false), x, training);
    }

    /**
     * DJL attaches an operation's result to its first operand's manager, so arrays derived from a
     * parameter (a reshaped weight, decay / T, ...) would pile up in the model's manager, one set per
     * forward. Lending the parameters to the caller's manager (tempAttach) makes those arrays die
     * with it; the parameters return to their own manager when it closes.
     */
    private void lendParameters(NDManager scope) {
        for (Parameter p : parameterList()) {
            NDArray a = p.getArray();
            if (a.getManager() != scope) {
                a.tempAttach(scope);
            }
        }
    }

    private List<Parameter> parameters;

    private List<Parameter> parameterList() {
        if (parameters == null) {
            parameters = new ArrayList<>(namedParameters().values());
        }
        return parameters;
    }

    private boolean checkpointing;
    /** The block segments of the last recorded forward pass, for {@link #backward}. */
    private BlockSegments pending;

    /**
     * Gradient checkpointing: a recorded forward pass keeps only each RWKV block's input and output,
     * and {@link #backward} (which the loss must then go through) runs every block again to
     * backpropagate through it. Training memory then holds one block's graph at a time, for about
     * one more forward pass of the blocks.
     */
    public void setCheckpointing(boolean on) {
        checkpointing = on;
    }

    private boolean fusedTraining;

    /**
     * Training with the fused Bi-WKV pair (on CPU, unless the kernel is forced to the differentiable
     * form): its forward and backward in Java instead of autograd through DJL ops. The gradients are
     * then complete only through {@link #backward}, not a plain {@code gc.backward(loss)}; hence
     * opt-in (the trainer and {@code bench} turn it on).
     */
    public void setFusedTraining(boolean on) {
        fusedTraining = on;
    }

    private boolean fusedTraining(NDArray x) {
        return fusedTraining && wkvKernel != WkvKernel.DIFFERENTIABLE && x.getDevice().equals(ai.djl.Device.cpu());
    }

    /**
     * Backpropagates a loss computed from the last {@code forward(x, true)} under {@code gc}:
     * {@code gc.backward(loss)}, then, with checkpointing or fused training on, the blocks' part (see
     * {@link BlockSegments}).
     */
    public void backward(GradientCollector gc, NDArray loss) {
        BlockSegments c = pending;
        pending = null;
        gc.backward(loss);
        if (c != null) {
            c.backward(gc);
        }
    }

    @Override
    NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        // recorded passes go through segments: to recompute blocks, or for the fused Bi-WKV's backward
        boolean recording = JniUtils.isGradMode();
        pending = recording && training && (checkpointing || fusedTraining(x)) ? new BlockSegments(checkpointing) : null;
        for (Stage st : stages()) {
            st.segments = pending;
        }
        try {
            return forwardStages(ps, x, training);
        } finally {
            for (Stage st : stages()) {
                st.segments = null;
            }
        }
    }

    private void checkInput(Shape s) {
        if (s.dimension() != 4 || s.get(1) != config.inpChannels() || s.get(2) % 8 != 0 || s.get(3) % 8 != 0) {
            throw new IllegalArgumentException("Restore-RWKV expects (B, " + config.inpChannels()
                    + ", H, W) with H, W multiples of 8, got " + s);
        }
    }

    /** Inference on the CPU host path: no gradients recorded, float32 on the CPU, every stage fast. */
    private boolean fastPathApplies(NDArray x) {
        return !JniUtils.isGradMode() && x.getDevice().equals(Device.cpu()) && x.getDataType() == DataType.FLOAT32
                && config.outChannels() == config.inpChannels() && stages().stream().allMatch(Stage::fastPath);
    }

    private NDArray forwardStages(ParameterStore ps, NDArray x, boolean training) {
        checkInput(x.getShape());
        if (!training && fastPathApplies(x)) {
            return forwardHost(x, StageClock.NONE);
        }
        // not recording gradients, every intermediate is freed once used, not when the caller's
        // scope closes: the peak then holds the skips and one level's work, not the whole pass
        Release done = JniUtils.isGradMode() ? (used, result) -> { } : RestoreRwkv::release;
        NDArray t = run(patchEmbed, ps, x, training);
        NDArray e1 = encoderLevel1.forward(ps, t, training);
        done.accept(t, e1);
        NDArray e2 = encoderLevel2.forward(ps, t = down12.forward(ps, e1, training), training);
        done.accept(t, e2);
        NDArray e3 = encoderLevel3.forward(ps, t = down23.forward(ps, e2, training), training);
        done.accept(t, e3);
        NDArray lat = latent.forward(ps, t = down34.forward(ps, e3, training), training);
        done.accept(t, lat);
        NDArray d3 = decoderLevel3.forward(ps, t = run(reduceChanLevel3, ps, skip(up43.forward(ps, lat, training), e3,
                done), training), training);
        done.accept(lat, d3);
        done.accept(t, d3);
        NDArray d2 = decoderLevel2.forward(ps, t = run(reduceChanLevel2, ps, skip(up32.forward(ps, d3, training), e2,
                done), training), training);
        done.accept(d3, d2);
        done.accept(t, d2);
        NDArray d1 = decoderLevel1.forward(ps, t = skip(up21.forward(ps, d2, training), e1, done), training);
        done.accept(d2, d1);
        done.accept(t, d1);
        NDArray r = refinement.forward(ps, d1, training);
        done.accept(d1, r);
        NDArray out = run(output, ps, r, training);
        done.accept(r, out);
        NDArray y = out.add(x);
        done.accept(out, y);
        return y;
    }

    /**
     * Inference on CPU: the same network as {@link #forwardStages} on channels-last host tokens (B*h*w,
     * C) in this thread's reused buffers, from the input planes to the output planes. Only the input
     * and the result are libtorch tensors (and the products of wide layers, see
     * {@link SpatialMix#project}), so repeated restorations allocate nothing new: no per-level tensors,
     * no layout copies between DJL and Java at every stage.
     */
    private NDArray forwardHost(NDArray x, StageClock clock) {
        Shape s = x.getShape();
        int bsz = (int) s.get(0);
        int cin = (int) s.get(1);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        int d = config.dim();
        long t = (long) bsz * h * w; // tokens at level 1; level l has t / 4^(l-1)
        HostBuffers hb = HostBuffers.get();
        float[] in = HostBuffers.read(x, hb.floats("u.in", t * cin)); // (B, Cin, H, W) planes
        // every buffer at its largest size first: a slot that grows later drops its contents
        float[] e1 = hb.floats("u.e1", t * d);
        float[] e2 = hb.floats("u.e2", t * d / 2);
        float[] e3 = hb.floats("u.e3", t * d / 4);
        float[] a = hb.floats("u.a", t * 2 * d);
        float[] b = hb.floats("u.b", t * d / 2);
        // the blocks' shift buffer, free between them; they ask for at most t * 2d of it, so it stays this array
        float[] c = hb.floats("shifted", t * Math.max(2 * d, cin));
        float[] y = hb.floats("u.out", t * config.outChannels());
        NDManager m = x.getManager();
        float[] tokens = in;
        if (cin > 1) {
            TokenOps.toTokens(in, c, bsz, h * w, cin);
            tokens = c;
        }
        patchEmbed.forwardTokens(tokens, bsz, h, w, e1, m);
        clock.mark("patch_embed");
        encoderLevel1.forwardTokens(e1, bsz, h, w, m);
        clock.mark("encoder_level1");
        down12.forwardTokens(e1, bsz, h, w, a, e2, m);
        clock.mark("down1_2");
        encoderLevel2.forwardTokens(e2, bsz, h / 2, w / 2, m);
        clock.mark("encoder_level2");
        down23.forwardTokens(e2, bsz, h / 2, w / 2, a, e3, m);
        clock.mark("down2_3");
        encoderLevel3.forwardTokens(e3, bsz, h / 4, w / 4, m);
        clock.mark("encoder_level3");
        down34.forwardTokens(e3, bsz, h / 4, w / 4, a, b, m);
        clock.mark("down3_4");
        latent.forwardTokens(b, bsz, h / 8, w / 8, m);
        clock.mark("latent");
        int t3 = (int) (t / 16);
        up43.forwardTokens(b, bsz, h / 8, w / 8, a, c, m);
        clock.mark("up4_3");
        TokenOps.concat(c, 4 * d, e3, 4 * d, a, t3); // [up, skip], up first as the reference
        reduceChanLevel3.forwardTokens(a, bsz, h / 4, w / 4, b, m);
        clock.mark("reduce_chan_level3");
        decoderLevel3.forwardTokens(b, bsz, h / 4, w / 4, m);
        clock.mark("decoder_level3");
        up32.forwardTokens(b, bsz, h / 4, w / 4, a, c, m);
        clock.mark("up3_2");
        TokenOps.concat(c, 2 * d, e2, 2 * d, a, t3 * 4);
        reduceChanLevel2.forwardTokens(a, bsz, h / 2, w / 2, b, m);
        clock.mark("reduce_chan_level2");
        decoderLevel2.forwardTokens(b, bsz, h / 2, w / 2, m);
        clock.mark("decoder_level2");
        up21.forwardTokens(b, bsz, h / 2, w / 2, a, c, m);
        clock.mark("up2_1");
        TokenOps.concat(c, d, e1, d, a, (int) t);
        clock.mark("skip_level1");
        decoderLevel1.forwardTokens(a, bsz, h, w, m);
        clock.mark("decoder_level1");
        refinement.forwardTokens(a, bsz, h, w, m);
        clock.mark("refinement");
        output.forwardToPlanes(a, bsz, h, w, c, y, m);
        int n = (int) (t * config.outChannels());
        for (int i = 0; i < n; i++) {
            y[i] += in[i]; // the global residual (out_channels == inp_channels)
        }
        clock.mark("output");
        return NativeArrays.fromHost(m, y, new Shape(bsz, config.outChannels(), h, w));
    }

    /**
     * One profiled inference pass: the wall seconds of each stage, Figure 2's stages in order, named
     * as in the state dict ({@code patch_embed}, {@code encoder_level1}, {@code down1_2}, ...; the
     * concatenation with a skip counts with the layer after it, the level-1 one as
     * {@code skip_level1}, and the global residual with {@code output}); and the wall seconds and
     * multiply-adds of the pass's matmuls alone (linear layers, 1x1 and im2col convolutions, the
     * channel MLP; not the depthwise Omni-Shift, the Bi-WKV or the element-wise work).
     */
    public record PassProfile(LinkedHashMap<String, Double> stageSeconds, double matmulSeconds, double matmulMacs) {}

    /**
     * Profiles one inference pass on the CPU fast path ({@link PassProfile}); the result of the pass
     * is discarded. Not thread-safe with other passes of this model (like {@link #forward}).
     *
     * @param x (B, Cin, H, W) float32 on the CPU
     * @throws IllegalStateException where the fast path does not apply (gradients recorded, another
     *     device, or a stage without a fast path)
     */
    public PassProfile profilePass(NDArray x) {
        checkInput(x.getShape());
        if (!fastPathApplies(x)) {
            throw new IllegalStateException("stage timing needs the CPU inference path (no gradients, float32 on the CPU)");
        }
        LinkedHashMap<String, Double> out = new LinkedHashMap<>();
        double[] matmuls = new double[2];
        HostBuffers hb = HostBuffers.get();
        hb.countMatmuls(matmuls);
        long[] last = {System.nanoTime()};
        try {
            forwardHost(x, stage -> {
                long now = System.nanoTime();
                out.merge(stage, (now - last[0]) / 1e9, Double::sum);
                last[0] = now;
            }).close();
        } finally {
            hb.countMatmuls(null);
        }
        return new PassProfile(out, matmuls[0], matmuls[1]);
    }

    /** Receives the end of each stage of a {@link #forwardHost} pass. */
    @FunctionalInterface
    private interface StageClock {
        StageClock NONE = stage -> { };

        void mark(String stage);
    }

    /** Frees {@code used} after {@code result} was computed from it (a no-op while recording). */
    private interface Release {
        void accept(NDArray used, NDArray result);
    }

    private static void release(NDArray used, NDArray result) {
        if (used != result) { // a stage without blocks returns its input
            used.close();
        }
    }

    /** concat [up, skip] on the channel axis (up first, as the reference), both freed after use. */
    private static NDArray skip(NDArray up, NDArray skip, Release done) {
        NDArray c = NDArrays.concat(new NDList(up, skip), 1);
        done.accept(up, c);
        done.accept(skip, c);
        return c;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] in) {
        Shape s = in[0];
        return new Shape[] {new Shape(s.get(0), config.outChannels(), s.get(2), s.get(3))};
    }

    // ---------------------------------------------------------------- parameters and state_dict

    /** Every parameter keyed by its PyTorch state_dict name, in state_dict order. */
    public LinkedHashMap<String, Parameter> namedParameters() {
        return namedParameters(this);
    }

    /** The parameters of any block of the tree, keyed as in the state dict relative to it ("att.key.weight"). */
    static LinkedHashMap<String, Parameter> namedParameters(Block b) {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        collect(b, "", out);
        return out;
    }

    private static void collect(Block b, String prefix, Map<String, Parameter> out) {
        for (Pair<String, Parameter> p : b.getDirectParameters()) {
            out.put(prefix + p.getKey(), p.getValue());
        }
        for (Pair<String, Block> c : b.getChildren()) {
            // AbstractBlock names children "%02d" + name: strip the ordinal
            collect(c.getValue(), prefix + c.getKey().substring(2) + ".", out);
        }
    }

    /** True for the keys of Omni-Shift's training branches (absent from the inference form). */
    public static boolean isTrainingBranch(String key) {
        return key.contains("omni_shift.") && !key.endsWith("conv5x5_reparam.weight");
    }

    /** Parameter count in training form (all state_dict tensors, as the reference counts). */
    public long parameterCount() {
        return namedParameters().values().stream().mapToLong(p -> p.getShape().size()).sum();
    }

    /** Parameter count in inference form: Omni-Shift branches folded into the 5x5 weight. */
    public long inferenceParameterCount() {
        return namedParameters().entrySet().stream()
                .filter(e -> !isTrainingBranch(e.getKey()))
                .mapToLong(e -> e.getValue().getShape().size()).sum();
    }

    /** The weights as host tensors, keyed like the reference state_dict (fused 5x5 up to date). */
    public LinkedHashMap<String, HostTensor> stateDict() {
        reparameterize();
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        namedParameters().forEach((k, p) -> out.put(k, new HostTensor(p.getShape().getShape(), p.getArray().toFloatArray())));
        return out;
    }

    /** What a state dict lacks, has in excess, or holds with the wrong shape. */
    public record KeyCheck(List<String> missing, List<String> unexpected, List<String> misshaped) {
        public boolean ok() {
            return missing.isEmpty() && unexpected.isEmpty() && misshaped.isEmpty();
        }

        /** One line naming the first problems, for an error message. */
        public String describe() {
            List<String> parts = new ArrayList<>();
            if (!misshaped.isEmpty()) {
                parts.add("wrong shape: " + abbreviate(misshaped));
            }
            if (!missing.isEmpty()) {
                parts.add("missing key" + (missing.size() > 1 ? "s" : "") + ": " + abbreviate(missing));
            }
            if (!unexpected.isEmpty()) {
                parts.add("unexpected key" + (unexpected.size() > 1 ? "s" : "") + ": " + abbreviate(unexpected));
            }
            return parts.isEmpty() ? "all keys match" : String.join("; ", parts);
        }

        private static String abbreviate(List<String> l) {
            return l.size() <= 3 ? String.join(", ", l) : String.join(", ", l.subList(0, 3)) + " and " + (l.size() - 3) + " more";
        }
    }

    /**
     * Compares a state dict with this model. {@code conv5x5_reparam.weight} may be absent: it is
     * derived from the branches, never read.
     */
    public KeyCheck check(Map<String, HostTensor> state) {
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> misshaped = new ArrayList<>();
        Map<String, Parameter> params = namedParameters();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            HostTensor t = state.get(e.getKey());
            if (t == null) {
                if (!e.getKey().endsWith("conv5x5_reparam.weight")) {
                    missing.add(e.getKey());
                }
            } else if (!Arrays.equals(t.shape(), e.getValue().getShape().getShape())) {
                misshaped.add(e.getKey() + " " + Arrays.toString(t.shape()) + " (model "
                        + Arrays.toString(e.getValue().getShape().getShape()) + ")");
            }
        }
        for (String k : state.keySet()) {
            if (!params.containsKey(k)) {
                unexpected.add(k);
            }
        }
        return new KeyCheck(missing, unexpected, misshaped);
    }

    /**
     * Copies a state dict into the (initialized) parameters. Every key must match in name and
     * shape; the fused Omni-Shift weights are recomputed at the next inference forward.
     *
     * @throws IllegalArgumentException naming the offending keys
     */
    public void load(Map<String, HostTensor> state) {
        KeyCheck check = check(state);
        if (!check.ok()) {
            throw new IllegalArgumentException(check.describe());
        }
        for (Map.Entry<String, Parameter> e : namedParameters().entrySet()) {
            HostTensor t = state.get(e.getKey());
            if (t != null && !e.getKey().endsWith("conv5x5_reparam.weight")) {
                for (float f : t.data()) {
                    if (!Float.isFinite(f)) {
                        throw new IllegalArgumentException("non-finite value in " + e.getKey());
                    }
                }
                copyInto(e.getValue().getArray(), t.data());
            }
        }
        weightsChanged();
    }

    /** Recomputes every Omni-Shift's fused 5x5 weight from its branches now. */
    public void reparameterize() {
        for (OmniShift o : omniShifts()) {
            o.reparameterize();
        }
    }

    /**
     * Call after the weights changed (a load, an optimizer step): drops what the inference fast path
     * derived from them, every Omni-Shift's fused 5x5 weight and the host copies of the others.
     */
    public void weightsChanged() {
        weightsChanged(this);
    }

    private static void weightsChanged(Block b) {
        if (b instanceof DerivedWeights d) {
            d.weightsChanged();
        }
        for (Pair<String, Block> c : b.getChildren()) {
            weightsChanged(c.getValue());
        }
    }

    /** Selects the Bi-WKV implementation of every SpatialMix. */
    public void setWkvKernel(WkvKernel kernel) {
        wkvKernel = kernel;
        for (Stage s : stages()) {
            for (RwkvBlock b : s.blocks()) {
                b.att().setKernel(kernel);
            }
        }
    }

    /** The Bi-WKV implementation last selected (AUTO until {@link #setWkvKernel} is called). */
    public WkvKernel wkvKernel() {
        return wkvKernel;
    }

    private List<Stage> stages() {
        return List.of(encoderLevel1, encoderLevel2, encoderLevel3, latent, decoderLevel3, decoderLevel2,
                decoderLevel1, refinement);
    }

    /** Every Omni-Shift of the network (none when the config's token shift is another). */
    private List<OmniShift> omniShifts() {
        List<OmniShift> out = new ArrayList<>();
        for (Stage s : stages()) {
            for (RwkvBlock b : s.blocks()) {
                for (TokenMixer t : List.of(b.att(), b.ffn())) {
                    if (t.omniShift() != null) {
                        out.add(t.omniShift());
                    }
                }
            }
        }
        return out;
    }
}
