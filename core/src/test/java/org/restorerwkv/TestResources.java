package org.restorerwkv;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** Locates files under src/test/resources. */
public final class TestResources {
    private TestResources() {}

    /** n uniform values in [0, 1) from a fixed seed. */
    public static float[] random(int n, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextDouble();
        }
        return a;
    }

    public static Path path(String name) {
        URL url = TestResources.class.getClassLoader().getResource(name);
        if (url == null) {
            throw new IllegalStateException("missing test resource " + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
