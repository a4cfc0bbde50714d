package org.restorerwkv.pacs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;

/**
 * HTTP authentication for a DICOMweb server: none, basic (user and password) or a bearer token.
 * Secrets come from an environment variable or a file, never from a command line, and
 * {@link #toString()} never shows them. Immutable.
 */
public final class Credentials {

    private final String scheme;
    private final String user;
    private final String secret;

    private Credentials(String scheme, String user, String secret) {
        this.scheme = scheme;
        this.user = user;
        this.secret = secret;
    }

    public static Credentials none() {
        return new Credentials(null, null, null);
    }

    public static Credentials basic(String user, String password) {
        if (Objects.requireNonNull(user, "user").contains(":")) {
            throw new IllegalArgumentException("a basic-authentication user name may not contain ':'");
        }
        return new Credentials("Basic", user, Objects.requireNonNull(password, "password"));
    }

    public static Credentials bearer(String token) {
        return new Credentials("Bearer", null, Objects.requireNonNull(token, "token"));
    }

    /**
     * Reads a secret from the environment variable {@code envVar} or the file {@code file} (exactly
     * one must be given; a file's trailing line break is dropped).
     */
    public static String readSecret(String envVar, Path file, Map<String, String> env) throws IOException {
        if ((envVar == null) == (file == null)) {
            throw new IllegalArgumentException("give the secret either through an environment variable or a file");
        }
        if (envVar != null) {
            String v = env.get(envVar);
            if (v == null || v.isEmpty()) {
                throw new IllegalArgumentException("environment variable " + envVar + " is not set");
            }
            return v;
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file (secret)");
        }
        if (Files.size(file) > 64 * 1024) {
            throw new IOException(file + ": too large for a secret (" + Files.size(file) + " bytes)");
        }
        String s = Files.readString(file, StandardCharsets.UTF_8);
        s = s.endsWith("\r\n") ? s.substring(0, s.length() - 2) : s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
        if (s.isEmpty()) {
            throw new IOException(file + ": empty secret");
        }
        return s;
    }

    /** The Authorization header's value, or null for none. */
    String authorization() {
        if (scheme == null) {
            return null;
        }
        if (scheme.equals("Basic")) {
            return "Basic " + Base64.getEncoder().encodeToString((user + ":" + secret).getBytes(StandardCharsets.UTF_8));
        }
        return "Bearer " + secret;
    }

    @Override
    public String toString() {
        return scheme == null ? "no authentication" : scheme.equals("Basic") ? "basic authentication as " + user : "bearer token";
    }
}
