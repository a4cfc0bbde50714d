package org.restorerwkv.data;

import org.restorerwkv.domain.Modality;

/**
 * One training batch of normalized patches: {@code lq} and {@code hq} are (size, 1, patch, patch)
 * in C order; {@code names} say which slice each patch came from.
 */
public record Batch(long iteration, int size, int patch, float[] lq, float[] hq, Modality[] modalities, String[] names) {}
