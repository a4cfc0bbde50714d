package org.restorerwkv;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** Locates files under src/test/resources. */
public final class TestResources {
    private TestResources() {}

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
