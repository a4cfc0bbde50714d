package org.restorerwkv.spark;

import java.io.Serializable;

/**
 * One row of the results table.
 *
 * @param input   the scan's URI
 * @param output  the output's URI (also for a failed scan: where it would have gone)
 * @param status  {@code restored}, {@code skipped} (its output was already complete) or {@code failed}
 * @param slices  slices restored (0 unless restored)
 * @param seconds wall time of the scan in its task (copying in, restoring, writing out)
 * @param error   for a failed scan the one line {@code restore} prints for the same input, else empty
 */
public record ScanResult(String input, String output, String status, int slices, double seconds, String error)
        implements Serializable {

    public static final String RESTORED = "restored";
    public static final String SKIPPED = "skipped";
    public static final String FAILED = "failed";
}
