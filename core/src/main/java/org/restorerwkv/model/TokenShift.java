package org.restorerwkv.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The token shift that mixes each token with its neighbours before the projections of both the
 * spatial and the channel mix (the config field {@code token_shift}). The paper's ablations (and its
 * effective receptive fields, Fig. 1 and 4) compare Omni-Shift with the shifts of earlier RWKV models:
 *
 * <ul>
 *   <li>{@link #OMNI}: the reference's Omni-Shift, {@code a0 x + a1 DW1x1(x) + a2 DW3x3(x) + a3 DW5x5(x)},
 *       one shifted input for all projections ({@link OmniShift}).
 *   <li>{@link #QUAD}: Vision-RWKV's Q-Shift (Duan et al., ICLR 2025, arXiv 2403.02308; {@code q_shift} in
 *       OpenGVLab/Vision-RWKV): channel groups [0, C/4), [C/4, C/2), [C/2, 3C/4), [3C/4, C) take the pixel
 *       one to the left, right, above and below (zero outside the image; channels past 4 floor(C/4)
 *       unshifted), and each projection P reads {@code x * mix_P + xx * (1 - mix_P)} with a learnt
 *       per-channel {@code spatial_mix_P}.
 *   <li>{@link #UNI}: RWKV-4's token shift (Peng et al., "RWKV: Reinventing RNNs for the Transformer Era",
 *       EMNLP 2023 Findings; {@code time_shift = nn.ZeroPad2d((0, 0, 1, -1))} in BlinkDL/RWKV-LM): xx is the
 *       previous token of the row-major sequence (zero for the first), mixed per projection with a
 *       learnt {@code time_mix_P}.
 *   <li>{@link #NONE}: no shift, the projections read the LayerNorm'd tokens.
 * </ul>
 *
 * Quad and Uni keep their papers' parameter names (Vision-RWKV's {@code att.spatial_mix_k}, RWKV-4's
 * {@code att.time_mix_k}), so a state dict tells which shift it was trained with.
 */
public enum TokenShift {
    OMNI,
    QUAD,
    UNI,
    NONE;

    /** The config spelling: omni, quad, uni, none. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException naming the valid values */
    public static TokenShift parse(String id) {
        for (TokenShift s : values()) {
            if (s.id().equals(id)) {
                return s;
            }
        }
        throw new IllegalArgumentException("token_shift must be one of " + Arrays.stream(values()).map(TokenShift::id)
                .collect(Collectors.joining(", ")) + ", got \"" + id + "\"");
    }

    /** The prefix of the per-projection mix parameters, or null for shifts without them. */
    String mixPrefix() {
        return switch (this) {
            case QUAD -> "spatial_mix_";
            case UNI -> "time_mix_";
            default -> null;
        };
    }
}
