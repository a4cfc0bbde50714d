package org.restorerwkv.io;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Resources shipped inside the program (the jar, or the classes folder when run from a build) as
 * files: the readers take paths, so a resource inside a jar is copied once per process to a
 * temporary file that is deleted when the JVM exits; one in a folder is used where it lies.
 */
public final class ClasspathFiles {

    /** Copies already made in this process, by the resource's URL (which names its jar). */
    private static final Map<String, Path> COPIES = new ConcurrentHashMap<>();

    private ClasspathFiles() {}

    /** Whether {@code resource} ("a/b/c.ext", no leading slash) is on the class path of {@code loader}. */
    public static boolean exists(ClassLoader loader, String resource) {
        return loader.getResource(resource) != null;
    }

    /**
     * The resource as a readable file.
     *
     * @throws java.nio.file.NoSuchFileException when the class path has no such resource
     */
    public static Path file(ClassLoader loader, String resource) throws IOException {
        URL url = loader.getResource(resource);
        if (url == null) {
            throw new java.nio.file.NoSuchFileException(resource, null, "not on the class path");
        }
        if ("file".equals(url.getProtocol())) {
            try {
                return Path.of(url.toURI());
            } catch (URISyntaxException | IllegalArgumentException e) {
                // an unusual file URL: fall through to a copy
            }
        }
        String key = url.toString();
        Path cached = COPIES.get(key);
        if (cached != null && Files.isRegularFile(cached)) {
            return cached;
        }
        String name = resource.substring(resource.lastIndexOf('/') + 1);
        Path dir = Files.createTempDirectory("restore-rwkv-");
        Path copy = dir.resolve(name);
        dir.toFile().deleteOnExit();
        copy.toFile().deleteOnExit(); // registered after the folder, so deleted before it
        URLConnection c = url.openConnection();
        c.setUseCaches(false); // else the jar stays open (and locked on Windows) after the copy
        try (InputStream in = c.getInputStream()) {
            Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
        }
        COPIES.put(key, copy);
        return copy;
    }

    /**
     * Names of the files directly under the resource folder {@code dir} ("a/b/", with the slash)
     * in every class path root of {@code loader} (folders and jars), sorted.
     */
    public static TreeSet<String> list(ClassLoader loader, String dir) throws IOException {
        TreeSet<String> names = new TreeSet<>();
        Enumeration<URL> roots = loader.getResources(dir);
        while (roots.hasMoreElements()) {
            URL url = roots.nextElement();
            if ("file".equals(url.getProtocol())) {
                Path folder;
                try {
                    folder = Path.of(url.toURI());
                } catch (URISyntaxException e) {
                    throw new IOException("resource folder " + url + ": " + e.getMessage(), e);
                }
                try (Stream<Path> s = Files.list(folder)) {
                    s.filter(Files::isRegularFile).forEach(p -> names.add(p.getFileName().toString()));
                }
            } else if ("jar".equals(url.getProtocol())) {
                JarURLConnection c = (JarURLConnection) url.openConnection();
                c.setUseCaches(false);
                try (JarFile jar = c.getJarFile()) {
                    for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                        String n = e.nextElement().getName();
                        if (n.startsWith(dir) && n.length() > dir.length() && n.indexOf('/', dir.length()) < 0) {
                            names.add(n.substring(dir.length()));
                        }
                    }
                }
            }
        }
        return names;
    }
}
