package org.restorerwkv.spark;

import java.io.Serializable;
import java.util.Map;

/**
 * What every task needs to restore a scan: the model options of {@code restore} (weights, modality,
 * slice axis, batching, tiling), the output root and the driver's Hadoop settings (so executors reach
 * the same file systems, e.g. s3a credentials given as {@code spark.hadoop.*}).
 */
record JobOptions(String weights, String modality, int axis, int batch, int tile, int overlap, String outputRoot,
        String tempRoot, Map<String, String> hadoop) implements Serializable {}
