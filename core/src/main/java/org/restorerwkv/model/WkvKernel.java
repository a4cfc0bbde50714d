package org.restorerwkv.model;

/** Which Bi-WKV implementation SpatialMix runs. */
public enum WkvKernel {
    /** The fused CPU kernel for inference on CPU, the differentiable form otherwise. */
    AUTO,
    /** Always the differentiable form (e.g. gradients w.r.t. the input in inference mode). */
    DIFFERENTIABLE,
    /** The fused kernel whenever not training (CPU only). */
    FUSED
}
