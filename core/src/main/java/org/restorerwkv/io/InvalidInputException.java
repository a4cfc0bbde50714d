package org.restorerwkv.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file that cannot be used: corrupt, truncated, unsupported or inconsistent. The message is one
 * line, "FILE: problem", which the command line prints as it is.
 */
public class InvalidInputException extends IOException {

    private final transient Path file;

    public InvalidInputException(Path file, String problem) {
        super((file == null ? "<input>" : file.toString()) + ": " + problem);
        this.file = file;
    }

    public InvalidInputException(Path file, String problem, Throwable cause) {
        this(file, problem);
        initCause(cause);
    }

    /** The offending file, or null when the input did not come from a file. */
    public Path file() {
        return file;
    }
}
