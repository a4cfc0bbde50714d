package org.restorerwkv.model;

/**
 * A block that keeps something derived from its own weights for inference (host copies in a
 * {@link HostWeights}, Omni-Shift's fused 5x5 weight). {@link RestoreRwkv#weightsChanged} reaches
 * every such block of the tree, so a new one only has to implement this.
 */
interface DerivedWeights {

    /** Drops what was derived from the weights; it is made again on next use. */
    void weightsChanged();
}
