package org.restorerwkv.spark;

import java.io.Serializable;

/**
 * One scan of the job: where it is (a URI on any Hadoop file system) and the path its output gets
 * under the output root (the input's path relative to the scanned folder or to the manifest).
 *
 * @param input    the scan's URI (a file, or a DICOM series folder)
 * @param relative its output path under the output root ('/'-separated, no "..", never empty)
 */
public record Scan(String input, String relative) implements Serializable {}
