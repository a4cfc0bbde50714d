package org.restorerwkv.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.restorerwkv.io.HostTensor;

/** A file format holding named tensors plus string metadata (the checkpoint container). */
public interface TensorFiles {

    /** Writes atomically (a crash leaves the old file or the new one, never a mix). */
    void write(Path file, Map<String, HostTensor> tensors, Map<String, String> metadata) throws IOException;

    LinkedHashMap<String, HostTensor> read(Path file) throws IOException;

    Map<String, String> readMetadata(Path file) throws IOException;

    /** The file name extension, with the dot. */
    String extension();
}
