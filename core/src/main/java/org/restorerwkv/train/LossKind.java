package org.restorerwkv.train;

import ai.djl.ndarray.NDArray;
import java.util.Locale;

/** Pixel loss between the restored image and the target. */
public enum LossKind {
    /** Mean absolute error, the reference's loss. */
    L1,
    /** Mean of sqrt(d^2 + eps^2): a smooth L1. */
    CHARBONNIER,
    /** Mean squared error: the loss whose minimum is the best PSNR. */
    L2;

    /** The scalar loss of a prediction against its target (same shape). */
    public NDArray apply(NDArray prediction, NDArray target, double charbonnierEps) {
        NDArray d = prediction.sub(target);
        if (this == L1) {
            return d.abs().mean();
        }
        if (this == L2) {
            return d.square().mean();
        }
        return d.square().add((float) (charbonnierEps * charbonnierEps)).sqrt().mean();
    }

    public static LossKind parse(String s) {
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "l1" -> L1;
            case "charbonnier" -> CHARBONNIER;
            case "l2", "mse" -> L2;
            default -> throw new IllegalArgumentException("unknown loss '" + s + "': expected l1, l2 or charbonnier");
        };
    }
}
