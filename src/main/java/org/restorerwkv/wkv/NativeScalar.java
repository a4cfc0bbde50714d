package org.restorerwkv.wkv;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Scalars for arithmetic that autograd differentiates. DJL's {@code x.mul(Number)} and
 * {@code x.div(Number)} wrap the number in a tensor over a JVM direct buffer and close it right
 * after the operation; libtorch's backward of mul/div keeps that tensor and reads it later, by
 * which time the garbage collector may have freed the buffer (measured: ±infinity gradients of
 * {@code spatial_decay / T} in some training steps). A tensor that libtorch allocates itself
 * stays alive as long as the graph holds it.
 */
public final class NativeScalar {

    private NativeScalar() {}

    /** A 0-d tensor of value v with x's type, device and manager, in libtorch-owned memory. */
    public static NDArray like(NDArray x, double v) {
        return x.getManager().full(new Shape(), (float) v, x.getDataType()).toDevice(x.getDevice(), false);
    }
}
