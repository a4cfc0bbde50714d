package org.restorerwkv.cli;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.restorerwkv.pacs.Credentials;
import org.restorerwkv.pacs.DicomWebClient;
import picocli.CommandLine.Option;

/**
 * Options shared by the {@code pacs} commands: the server, its credentials (secrets only from an
 * environment variable or a file, never the command line) and the timeout.
 */
public final class PacsOptions {

    @Option(names = "--url", required = true, paramLabel = "URL",
            description = "DICOMweb root, e.g. http://127.0.0.1:8042/dicom-web (Orthanc) or https://pacs.example.org/dcm4chee-arc/aets/DCM4CHEE/rs.")
    String url;

    @Option(names = "--user", paramLabel = "NAME", description = "HTTP basic authentication as NAME; the password from --password-env or --password-file.")
    String user;

    @Option(names = "--password-env", paramLabel = "VAR", description = "Environment variable holding the password.")
    String passwordEnv;

    @Option(names = "--password-file", paramLabel = "FILE", description = "File holding the password (one line).")
    Path passwordFile;

    @Option(names = "--token-env", paramLabel = "VAR", description = "Environment variable holding a bearer token.")
    String tokenEnv;

    @Option(names = "--token-file", paramLabel = "FILE", description = "File holding a bearer token.")
    Path tokenFile;

    @Option(names = "--timeout", defaultValue = "60s", paramLabel = "DURATION",
            description = "Connection and response timeout, e.g. 30s, 2m (default: ${DEFAULT-VALUE}).")
    String timeout;

    DicomWebClient client() throws IOException {
        return new DicomWebClient(URI.create(url), credentials(), duration(timeout, "--timeout"));
    }

    private Credentials credentials() throws IOException {
        boolean password = passwordEnv != null || passwordFile != null;
        boolean token = tokenEnv != null || tokenFile != null;
        if (password && token) {
            throw new IllegalArgumentException("give either a password (--user) or a bearer token, not both");
        }
        if (user != null) {
            if (!password) {
                throw new IllegalArgumentException("--user needs --password-env VAR or --password-file FILE");
            }
            return Credentials.basic(user, Credentials.readSecret(passwordEnv, passwordFile, System.getenv()));
        }
        if (password) {
            throw new IllegalArgumentException("a password needs --user NAME");
        }
        if (token) {
            return Credentials.bearer(Credentials.readSecret(tokenEnv, tokenFile, System.getenv()));
        }
        return Credentials.none();
    }

    /** "30s", "5m", "2h", "250ms" or plain seconds. */
    static Duration duration(String s, String option) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        try {
            Duration d;
            if (t.endsWith("ms")) {
                d = Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            } else if (t.endsWith("s")) {
                d = Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            } else if (t.endsWith("m")) {
                d = Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            } else if (t.endsWith("h")) {
                d = Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
            } else {
                d = Duration.ofSeconds(Long.parseLong(t));
            }
            if (d.isNegative()) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be a duration like 30s, 5m or 1h, got " + s);
        }
    }

    /** TAG=VALUE pairs in order. */
    static Map<String, String> filters(List<String> pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String p : pairs == null ? List.<String>of() : pairs) {
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--filter must be TAG=VALUE (e.g. Modality=CT), got " + p);
            }
            m.put(p.substring(0, eq).trim(), p.substring(eq + 1).trim());
        }
        return m;
    }
}
