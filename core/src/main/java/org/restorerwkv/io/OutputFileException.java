package org.restorerwkv.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An output that cannot be written: the folder is read-only, a parent is a regular file, the disk
 * is full. The message is one line, "PATH: problem", naming the path the caller asked for (never
 * the temporary file it is written through); the underlying exception is the cause.
 */
public class OutputFileException extends IOException {

    private final transient Path file;

    public OutputFileException(Path file, String problem, Throwable cause) {
        super(file + ": " + InvalidInputException.oneLine(problem), cause);
        this.file = file;
    }

    public OutputFileException(Path file, String problem) {
        this(file, problem, null);
    }

    /** The output that could not be written. */
    public Path file() {
        return file;
    }
}
