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
        super((file == null ? "<input>" : file.toString()) + ": " + oneLine(problem));
        this.file = file;
    }

    /**
     * The problem on one line: text quoted from a file (a DICOM UID, a header string) may hold line
     * breaks or other control characters, which are shown as Java-style escapes (backslash, u, four hex digits).
     */
    static String oneLine(String problem) {
        if (problem == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(problem.length());
        problem.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
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
