package org.restorerwkv.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Options;
import org.restorerwkv.api.RestorationModel;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.infer.RestoreListener;
import org.restorerwkv.infer.ScanRestorer;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Npy;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;

/**
 * Restores one scan inside a task: copies it from its file system to a local folder, restores it
 * exactly as {@code restore} does (same reading, modality rule, model call and writing), copies the
 * output to a name of its own under the job's temporary folder in the output root and renames it to
 * its final name. The rename refuses to replace an existing output, so a task that Spark runs twice
 * (a lost executor, speculation) leaves one complete output and never a partial one: an output
 * exists under its final name only once it is complete.
 */
final class ScanRestore {

    private ScanRestore() {}

    /** Restores {@code scan}; never throws for a bad scan (that is a failed row). */
    static ScanResult run(Scan scan, JobOptions o, int taskCpus, String attempt) {
        long t0 = System.nanoTime();
        Configuration conf = conf(o.hadoop());
        org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path(o.outputRoot(), scan.relative());
        Path work = null;
        try {
            if (out.getFileSystem(conf).exists(out)) {
                return new ScanResult(scan.input(), out.toString(), ScanResult.SKIPPED, 0, seconds(t0), "");
            }
            work = Files.createTempDirectory("restore-rwkv-spark-");
            int slices = restore(scan, o, taskCpus, conf, work, out, attempt);
            String status = slices < 0 ? ScanResult.SKIPPED : ScanResult.RESTORED;
            return new ScanResult(scan.input(), out.toString(), status, Math.max(slices, 0), seconds(t0), "");
        } catch (Exception e) {
            Path localIn = work == null ? null : work.resolve("in").resolve(new org.apache.hadoop.fs.Path(scan.input()).getName());
            return new ScanResult(scan.input(), out.toString(), ScanResult.FAILED, 0, seconds(t0),
                    message(e, localIn, scan.input()));
        } finally {
            if (work != null) {
                deleteLocal(work);
            }
        }
    }

    /** The restored slice count, or -1 when another attempt completed the output first. */
    private static int restore(Scan scan, JobOptions o, int taskCpus, Configuration conf, Path work,
            org.apache.hadoop.fs.Path out, String attempt) throws IOException {
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(scan.input());
        FileSystem inFs = in.getFileSystem(conf);
        String name = in.getName();
        Path localIn = work.resolve("in").resolve(name);
        Path localOut = work.resolve("out").resolve(name);
        Files.createDirectories(localIn.getParent());
        Files.createDirectories(localOut.getParent());
        if (!inFs.exists(in)) {
            throw new InvalidInputException(localIn, "no such file or directory");
        }
        boolean series = inFs.getFileStatus(in).isDirectory();
        inFs.copyToLocalFile(false, in, new org.apache.hadoop.fs.Path(localIn.toUri()), true);
        if (series) {
            Files.createDirectories(localOut); // a DICOM series whatever the folder's name
        }
        int slices;
        RestorationModel model = ExecutorModel.get(o, taskCpus);
        if (isNpyToNpy(localIn, localOut)) {
            HostTensor t = Npy.read(localIn);
            Modality m = modality(o, null, localIn);
            slices = t.rank() == 2 ? 1 : (int) t.shape()[0];
            try {
                Npy.write(localOut, model.restore(t, m, RestoreListener.NONE));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(localIn, e.getMessage());
            }
        } else {
            if (!series) {
                VolumeFormats.outputKind(localOut); // refuse a name restore cannot write before reading
            }
            Volume v = VolumeFormats.read(localIn);
            Modality m = modality(o, v, localIn);
            slices = ScanRestorer.sliceCount(v, o.axis());
            try {
                VolumeFormats.write(localOut, model.restore(v, m, o.axis(), RestoreListener.NONE));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(localIn, e.getMessage());
            }
        }
        return publish(conf, localOut, out, new org.apache.hadoop.fs.Path(o.tempRoot(), attempt + "/" + name)) ? slices : -1;
    }

    /**
     * Copies the local output to {@code temp} and renames it to {@code out}; false (and the copy
     * removed) when {@code out} appeared meanwhile.
     */
    private static boolean publish(Configuration conf, Path localOut, org.apache.hadoop.fs.Path out,
            org.apache.hadoop.fs.Path temp) throws IOException {
        FileSystem fs = fileSystem(out, conf);
        fs.mkdirs(temp.getParent());
        fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(localOut.toUri()), temp);
        fs.mkdirs(out.getParent());
        try {
            // FileContext's rename with Rename.NONE fails when the target exists (FileSystem.rename would move
            // a folder into an existing one: a duplicate)
            FileContext.getFileContext(out.toUri(), conf).rename(temp, out, Options.Rename.NONE);
            return true;
        } catch (FileAlreadyExistsException e) {
            fs.delete(temp, true);
            return false;
        }
    }

    private static Modality modality(JobOptions o, Volume v, Path in) throws InvalidInputException {
        return ScanRestorer.modalityOf(o.modality(), v, in);
    }

    private static boolean isNpyToNpy(Path in, Path out) {
        return in.toString().toLowerCase(Locale.ROOT).endsWith(".npy") && out.toString().toLowerCase(Locale.ROOT).endsWith(".npy");
    }

    /**
     * The line {@code restore} prints for the same failure (cli Main's rule: the first line of the
     * message of an expected failure, else the exception's type and message), with the local copy's
     * path replaced by the scan's URI.
     */
    static String message(Throwable e, Path localIn, String input) {
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        if (localIn != null) {
            msg = msg.replace(localIn.toString(), input);
        }
        if (t instanceof IOException || t instanceof IllegalArgumentException || t instanceof IllegalStateException) {
            return "restore-rwkv restore: " + msg.lines().findFirst().orElse(msg);
        }
        return "restore-rwkv restore: " + t.getClass().getName() + ": " + msg;
    }

    /**
     * The file system of {@code p}; for local paths the raw one, so that no ".crc" checksum files
     * are written next to the outputs.
     */
    static FileSystem fileSystem(org.apache.hadoop.fs.Path p, Configuration conf) throws IOException {
        FileSystem fs = p.getFileSystem(conf);
        return fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
    }

    static Configuration conf(Map<String, String> settings) {
        Configuration c = new Configuration();
        settings.forEach(c::set);
        return c;
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void deleteLocal(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a leftover in the executor's temp folder is harmless; the scan's row is what matters
        }
    }
}
