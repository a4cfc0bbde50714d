package org.restorerwkv.bench;

import java.util.LinkedHashMap;
import org.restorerwkv.model.ModelConfig;

/**
 * Multiply-adds of one forward pass of Restore-RWKV on one H x W image, counted analytically from
 * the architecture: convolutions and linear layers (the matmul-like work). Bi-WKV, layer norms and
 * element-wise ops are O(T·C) with small constants and are left out, as FLOP counts usually do.
 */
final class Flops {

    private Flops() {}

    /** MACs of an inference-form forward pass (Omni-Shift as one depthwise 5x5). */
    public static double forwardMacs(ModelConfig c, int height, int width) {
        return stageMacs(c, height, width).values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /**
     * MACs of each stage of an inference-form forward pass, keyed and ordered as
     * {@code RestoreRwkv#profilePass} (a 3x3 down/up conv of C -> C/2 or C -> 2C channels before the
     * pixel (un)shuffle; a skip concatenation costs no MACs).
     */
    static LinkedHashMap<String, Double> stageMacs(ModelConfig c, int height, int width) {
        double d = c.dim();
        double t1 = (double) height * width;
        double t2 = t1 / 4;
        double t3 = t1 / 16;
        double t4 = t1 / 64;
        int[] n = c.numBlocks();
        LinkedHashMap<String, Double> m = new LinkedHashMap<>();
        m.put("patch_embed", c.inpChannels() * d * 9 * t1);
        m.put("encoder_level1", n[0] * block(c, d, t1));
        m.put("down1_2", d * (d / 2) * 9 * t1);
        m.put("encoder_level2", n[1] * block(c, 2 * d, t2));
        m.put("down2_3", 2 * d * d * 9 * t2);
        m.put("encoder_level3", n[2] * block(c, 4 * d, t3));
        m.put("down3_4", 4 * d * (2 * d) * 9 * t3);
        m.put("latent", n[3] * block(c, 8 * d, t4));
        m.put("up4_3", 8 * d * 16 * d * 9 * t4);
        m.put("reduce_chan_level3", 8 * d * 4 * d * t3);
        m.put("decoder_level3", n[2] * block(c, 4 * d, t3));
        m.put("up3_2", 4 * d * 8 * d * 9 * t3);
        m.put("reduce_chan_level2", 4 * d * 2 * d * t2);
        m.put("decoder_level2", n[1] * block(c, 2 * d, t2));
        m.put("up2_1", 2 * d * 4 * d * 9 * t2);
        m.put("skip_level1", 0.0);
        m.put("decoder_level1", n[0] * block(c, 2 * d, t1));
        m.put("refinement", c.numRefinementBlocks() * block(c, 2 * d, t1));
        m.put("output", 2 * d * c.outChannels() * 9 * t1);
        return m;
    }

    /** One RWKV block on T tokens of C channels. */
    static double block(ModelConfig c, double ch, double tokens) {
        double hidden = c.hiddenRate() * ch;
        double spatial = 4 * ch * ch * tokens + 25 * ch * tokens; // k, v, r, output + Omni-Shift
        double channel = (2 * hidden * ch + ch * ch) * tokens + 25 * ch * tokens; // key, value, receptance + Omni-Shift
        return spatial + channel;
    }

    /**
     * MACs of a training step: the forward in training form (Omni-Shift's 1+9+25 taps plus the
     * identity) and a backward of about twice the forward.
     */
    public static double trainStepMacs(ModelConfig c, int height, int width) {
        return 3 * forwardMacs(c, height, width);
    }
}
