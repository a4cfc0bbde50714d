package org.restorerwkv.cli;

import org.restorerwkv.io.ReadLimits;
import picocli.CommandLine.Option;

/** {@code --max-voxels} and {@code --max-input-bytes}: the budget every input is checked against before it is read. */
public final class ReadLimitOptions {

    @Option(names = "--max-voxels", paramLabel = "N",
            description = "Refuse an image that declares more voxels than this (default: 134217728 = 512^3).")
    Long maxVoxels;

    @Option(names = "--max-input-bytes", paramLabel = "N",
            description = "Refuse an input that decodes (decompresses) to more bytes than this (default: 1073741824 = 1 GiB).")
    Long maxBytes;

    ReadLimits limits() {
        ReadLimits d = ReadLimits.DEFAULT;
        return new ReadLimits(maxVoxels == null ? d.maxVoxels() : maxVoxels, maxBytes == null ? d.maxBytes() : maxBytes);
    }
}
