package org.restorerwkv.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;

/**
 * Writes files so that a crash never leaves a half-written one: the bytes go to a temporary file
 * in the target's folder, which is then renamed over the target in one step.
 */
public final class AtomicFiles {

    /** What writes the content; may throw, in which case the target is left untouched. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFiles() {}

    /**
     * Writes {@code target} through a temporary file. A failure of the file system is reported as
     * an {@link OutputFileException} naming {@code target}; the writer's own exceptions pass
     * unchanged. Either way no temporary file is left.
     */
    public static void write(Path target, Writer writer) throws IOException {
        checkWritableFile(target);
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        // not Files.createTempFile: its 0600 mode would end up on the output; this one gets the umask
        Path tmp = dir.resolve("." + abs.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
        try {
            Files.createDirectories(dir);
            OutputStream file;
            try {
                file = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new OutputFileException(target, "cannot write (" + FileErrors.describe(e) + ")", e);
            }
            try (OutputStream out = new BufferedOutputStream(new Reported(file, target), 1 << 16)) {
                writer.write(out);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (java.nio.file.FileSystemException e) {
            throw new OutputFileException(target, "cannot write (" + FileErrors.describe(e) + ")", e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Refuses, before any work, an output file that cannot be created: the path is a directory, a
     * parent is a regular file, or the nearest existing parent folder is not writable.
     */
    public static void checkWritableFile(Path target) throws OutputFileException {
        if (Files.isDirectory(target)) {
            throw new OutputFileException(target, "is a directory; give a file name");
        }
        checkParent(target);
        if (Files.exists(target) && !Files.isWritable(target)) {
            throw new OutputFileException(target, "cannot write (permission denied)");
        }
    }

    /** As {@link #checkWritableFile} for an output folder (which may exist already). */
    public static void checkWritableFolder(Path target) throws OutputFileException {
        if (Files.exists(target) && !Files.isDirectory(target)) {
            throw new OutputFileException(target, "exists and is not a directory");
        }
        if (Files.isDirectory(target)) {
            if (!Files.isWritable(target)) {
                throw new OutputFileException(target, "cannot write into this directory (permission denied)");
            }
            return;
        }
        checkParent(target);
    }

    private static void checkParent(Path target) throws OutputFileException {
        // the parents as the user wrote them, then the absolute ones (a bare name's folder is the working one)
        Path p = target.getParent();
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null) {
            p = target.toAbsolutePath().getParent();
            while (p != null && !Files.exists(p)) {
                p = p.getParent();
            }
        }
        if (p == null) {
            return;
        }
        if (!Files.isDirectory(p)) {
            throw new OutputFileException(target, "cannot be created: " + p + " is a file, not a directory");
        }
        if (!Files.isWritable(p)) {
            throw new OutputFileException(target, "cannot write into " + p + " (permission denied)");
        }
    }

    /** The temporary file's stream, whose failures (disk full) name the target. */
    private static final class Reported extends java.io.FilterOutputStream {
        private final Path target;

        Reported(OutputStream out, Path target) {
            super(out);
            this.target = target;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                throw new OutputFileException(target, "cannot write (" + FileErrors.describe(e) + ")", e);
            }
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void close() throws IOException {
            try {
                out.close();
            } catch (IOException e) {
                throw new OutputFileException(target, "cannot write (" + FileErrors.describe(e) + ")", e);
            }
        }
    }

    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, out -> out.write(bytes));
    }
}
