package org.restorerwkv.spark;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The scans of a job, found on the driver: listed in a manifest, or found by walking a folder.
 *
 * <p>A folder is walked as {@code restore} reads a folder of scans, recursively: a folder holding
 * only files, none of them a known non-DICOM image, is one DICOM series; otherwise each file is a
 * scan and each sub-folder is walked. Names starting with "." or "_" are skipped (hidden files,
 * Hadoop's markers, this job's own results and temporary folder).
 */
final class Inputs {

    private Inputs() {}

    /**
     * The scans a manifest names: a text file with one path or URI a line ("#" starts a comment), or
     * a {@code .csv} whose first column is the path (a first row "input" or "path" is a header).
     * Relative entries are resolved against the manifest's folder and keep their relative path under
     * the output root; absolute ones keep their path relative to {@code base}, or without a base
     * their path without the file system's scheme and authority.
     */
    static List<Scan> fromManifest(Path manifest, String base, Configuration conf) throws IOException {
        FileSystem fs = manifest.getFileSystem(conf);
        if (!fs.exists(manifest)) {
            throw new IOException(manifest + ": no such file");
        }
        List<String> entries = new ArrayList<>();
        try (Reader r = new InputStreamReader(fs.open(manifest), StandardCharsets.UTF_8)) {
            if (manifest.getName().toLowerCase(Locale.ROOT).endsWith(".csv")) {
                boolean first = true;
                for (CSVRecord rec : CSVFormat.DEFAULT.builder().setIgnoreSurroundingSpaces(true).get().parse(r)) {
                    String v = rec.size() == 0 ? "" : rec.get(0);
                    if (first && (v.equalsIgnoreCase("input") || v.equalsIgnoreCase("path"))) {
                        first = false;
                        continue;
                    }
                    first = false;
                    if (!v.isBlank()) {
                        entries.add(v.strip());
                    }
                }
            } else {
                new java.io.BufferedReader(r).lines().map(String::strip)
                        .filter(l -> !l.isEmpty() && !l.startsWith("#")).forEach(entries::add);
            }
        }
        Path dir = fs.makeQualified(manifest).getParent();
        Path baseDir = base == null ? null : new Path(base);
        List<Scan> scans = new ArrayList<>();
        for (String e : entries) {
            Path p = new Path(e);
            String relative;
            Path abs;
            if (p.isAbsolute() || p.toUri().getScheme() != null) {
                abs = p;
                relative = baseDir == null ? p.toUri().getPath() : relativeTo(baseDir, p, manifest);
            } else {
                abs = new Path(dir, p);
                relative = e;
            }
            scans.add(new Scan(abs.toString(), checkRelative(relative, manifest, e)));
        }
        return unique(scans, manifest);
    }

    /** The scans found by walking {@code folder} (see the class comment). */
    static List<Scan> fromFolder(Path folder, Configuration conf) throws IOException {
        FileSystem fs = folder.getFileSystem(conf);
        if (!fs.exists(folder) || !fs.getFileStatus(folder).isDirectory()) {
            throw new IOException(folder + ": no such folder");
        }
        Path root = fs.makeQualified(folder);
        List<Scan> scans = new ArrayList<>();
        walk(fs, root, root, scans);
        if (isSeries(fs, root)) {
            throw new IOException(folder + ": is itself one DICOM series; name it in a manifest");
        }
        return scans;
    }

    private static void walk(FileSystem fs, Path root, Path dir, List<Scan> scans) throws IOException {
        for (FileStatus s : sorted(fs.listStatus(dir))) {
            if (hidden(s.getPath())) {
                continue;
            }
            if (s.isFile()) {
                scans.add(new Scan(s.getPath().toString(), relative(root, s.getPath())));
            } else if (isSeries(fs, s.getPath())) {
                scans.add(new Scan(s.getPath().toString(), relative(root, s.getPath())));
            } else {
                walk(fs, root, s.getPath(), scans);
            }
        }
    }

    /** The rule of restore's folder reading: only files, none a known non-DICOM image. */
    private static boolean isSeries(FileSystem fs, Path dir) throws IOException {
        boolean any = false;
        for (FileStatus s : fs.listStatus(dir)) {
            if (hidden(s.getPath())) {
                continue;
            }
            if (!s.isFile() || org.restorerwkv.io.VolumeFormats.isKnownNonDicom(s.getPath().getName())) {
                return false;
            }
            any = true;
        }
        return any;
    }

    static boolean hidden(Path p) {
        String n = p.getName();
        return n.startsWith(".") || n.startsWith("_");
    }

    private static FileStatus[] sorted(FileStatus[] a) {
        TreeMap<String, FileStatus> m = new TreeMap<>();
        for (FileStatus s : a) {
            m.put(s.getPath().getName(), s);
        }
        return m.values().toArray(new FileStatus[0]);
    }

    private static String relative(Path root, Path p) {
        String r = root.toUri().getPath();
        String s = p.toUri().getPath();
        return s.substring(r.endsWith("/") ? r.length() : r.length() + 1);
    }

    private static String relativeTo(Path base, Path p, Path manifest) throws IOException {
        String b = base.toUri().getPath();
        String s = p.toUri().getPath();
        String prefix = b.endsWith("/") ? b : b + "/";
        if (!s.startsWith(prefix)) {
            throw new IOException(manifest + ": " + p + " is not under --base " + base);
        }
        return s.substring(prefix.length());
    }

    private static String checkRelative(String relative, Path manifest, String entry) throws IOException {
        String r = relative.replaceAll("^/+", "").replaceAll("/+$", "");
        for (String part : r.split("/")) {
            if (part.isEmpty() || part.equals(".") || part.equals("..") || part.startsWith("_") || part.startsWith(".")) {
                throw new IOException(manifest + ": entry " + entry
                        + " gives output path '" + r + "' (needs names without '.', '..', or a leading '.' or '_')");
            }
        }
        return r;
    }

    private static List<Scan> unique(List<Scan> scans, Path manifest) throws IOException {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Scan s : scans) {
            if (!seen.add(s.relative())) {
                throw new IOException(manifest + ": two entries would both write " + s.relative());
            }
        }
        if (scans.isEmpty()) {
            throw new IOException(manifest + ": names no scan");
        }
        return scans;
    }
}
