package org.restorerwkv.model;

import ai.djl.nn.Block;
import ai.djl.util.Pair;

/**
 * Sizes at which the kernels switch between equivalent ways of computing the same result (Java or
 * libtorch products, band and chunk sizes, stacked or tap-wise training convolutions). A model
 * carries {@link #DEFAULT}; tests give a model others ({@link #apply}) to run every branch, instead
 * of flipping process-wide switches.
 *
 * @param javaLinearMax largest K x N of a block's linear layer (or channel MLP) done in Java ({@link SpatialMix#JAVA_LINEAR_MAX})
 * @param javaProductMax largest k x out of a convolution's product done in Java ({@link TapConv#JAVA_PRODUCT_MAX})
 * @param tokenBandFloats largest im2col band on host tokens ({@link TapConv#TOKEN_BAND_FLOATS})
 * @param im2colMaxFloats largest stacked matrix of one im2col band on NDArrays ({@link TapConv#IM2COL_MAX_FLOATS})
 * @param stackedTrainingMaxFloats largest stack of the stacked training form ({@link TapConv#STACKED_TRAINING_MAX_FLOATS})
 * @param chunkFloats widest tensor of one libtorch row chunk ({@link HostBuffers#CHUNK_FLOATS})
 */
record KernelLimits(long javaLinearMax, long javaProductMax, long tokenBandFloats, long im2colMaxFloats, long stackedTrainingMaxFloats,
        int chunkFloats) {

    static final KernelLimits DEFAULT = new KernelLimits(SpatialMix.JAVA_LINEAR_MAX, TapConv.JAVA_PRODUCT_MAX, TapConv.TOKEN_BAND_FLOATS,
            TapConv.IM2COL_MAX_FLOATS, TapConv.STACKED_TRAINING_MAX_FLOATS, HostBuffers.CHUNK_FLOATS);

    /** Whether a linear product with a K x N weight runs in Java ({@link #javaLinearMax}) rather than libtorch. */
    boolean linearInJava(int k, int n) {
        return (long) k * n <= javaLinearMax;
    }

    KernelLimits withJavaLinearMax(long v) {
        return new KernelLimits(v, javaProductMax, tokenBandFloats, im2colMaxFloats, stackedTrainingMaxFloats, chunkFloats);
    }

    KernelLimits withJavaProductMax(long v) {
        return new KernelLimits(javaLinearMax, v, tokenBandFloats, im2colMaxFloats, stackedTrainingMaxFloats, chunkFloats);
    }

    KernelLimits withTokenBandFloats(long v) {
        return new KernelLimits(javaLinearMax, javaProductMax, v, im2colMaxFloats, stackedTrainingMaxFloats, chunkFloats);
    }

    KernelLimits withIm2colMaxFloats(long v) {
        return new KernelLimits(javaLinearMax, javaProductMax, tokenBandFloats, v, stackedTrainingMaxFloats, chunkFloats);
    }

    KernelLimits withStackedTrainingMaxFloats(long v) {
        return new KernelLimits(javaLinearMax, javaProductMax, tokenBandFloats, im2colMaxFloats, v, chunkFloats);
    }

    KernelLimits withChunkFloats(int v) {
        return new KernelLimits(javaLinearMax, javaProductMax, tokenBandFloats, im2colMaxFloats, stackedTrainingMaxFloats, v);
    }

    /** Gives every layer under {@code root} (a model, a stage, a block) these limits. */
    static void apply(Block root, KernelLimits limits) {
        if (root instanceof TapConv t) {
            t.limits = limits;
        }
        if (root instanceof TokenMixer m) {
            m.limits = limits;
        }
        for (Pair<String, Block> c : root.getChildren()) {
            apply(c.getValue(), limits);
        }
    }
}
