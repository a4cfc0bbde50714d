package org.restorerwkv.pacs;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * A DICOMweb client (DICOM PS3.18): QIDO-RS searches, WADO-RS series retrieval streamed to files,
 * and STOW-RS storage, on the JDK's {@link HttpClient}. TLS is verified with the JVM's default trust
 * store (set another with the standard {@code javax.net.ssl.trustStore} properties). Never deletes
 * anything. Thread-safe.
 */
public final class DicomWebClient {

    /** A search key: a DICOM keyword or 8 hex digits (PS3.18 8.3.4). */
    private static final Pattern KEY = Pattern.compile("[A-Za-z][A-Za-z0-9]*|[0-9A-Fa-f]{8}");
    /** Series-level attributes asked for in every series search. */
    static final List<String> SERIES_FIELDS = List.of("0020000D", "0020000E", "00080060", "0008103E", "00200011",
            "00201209", "00080021", "00080031", "00080020", "00080030");

    private final URI base;
    private final Credentials credentials;
    private final Duration timeout;
    private final HttpClient http;
    private final long maxInstanceBytes;

    /**
     * @param base the DICOMweb root, e.g. {@code http://127.0.0.1:8042/dicom-web}
     * @param timeout for connecting and for each response's headers
     */
    public DicomWebClient(URI base, Credentials credentials, Duration timeout) {
        String s = base.toString();
        this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
        String scheme = this.base.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https")) || this.base.getHost() == null) {
            throw new IllegalArgumentException("--url must be an http:// or https:// URL with a host, got " + base);
        }
        this.credentials = credentials;
        this.timeout = timeout;
        this.maxInstanceBytes = 4L << 30;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    public URI base() {
        return base;
    }

    /**
     * QIDO-RS series search ({@code GET /series}) with the given keys (keyword or tag = value,
     * e.g. Modality=CT, StudyDate=20240101-20241231, StudyInstanceUID=...). Patient name is asked
     * for only when {@code withNames}.
     */
    public List<SeriesInfo> searchSeries(Map<String, String> keys, boolean withNames) throws IOException {
        List<String> fields = new ArrayList<>(SERIES_FIELDS);
        if (withNames) {
            fields.add("00100010");
        }
        List<SeriesInfo> out = new ArrayList<>();
        for (JsonObject o : query("/series", keys, fields)) {
            String date = DicomJson.string(o, "00080021");
            String time = DicomJson.string(o, "00080031");
            if (date == null) {
                date = DicomJson.string(o, "00080020");
                time = DicomJson.string(o, "00080030");
            }
            Integer n = DicomJson.integer(o, "00201209");
            out.add(new SeriesInfo(DicomJson.string(o, "0020000D"), DicomJson.string(o, "0020000E"),
                    orEmpty(DicomJson.string(o, "00080060")), orEmpty(DicomJson.string(o, "0008103E")),
                    DicomJson.integer(o, "00200011"), n == null ? -1 : n,
                    orEmpty(date) + orEmpty(time), withNames ? orEmpty(DicomJson.personName(o, "00100010")) : null));
        }
        return out;
    }

    /** The SOPInstanceUIDs of a series with their NumberOfFrames (1 when absent), by QIDO-RS. */
    public Map<String, Integer> instances(String studyUid, String seriesUid) throws IOException {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (JsonObject o : query("/studies/" + uid(studyUid) + "/series/" + uid(seriesUid) + "/instances", Map.of(),
                List.of("00080018", "00280008"))) {
            Integer frames = DicomJson.integer(o, "00280008");
            String sop = DicomJson.string(o, "00080018");
            if (sop != null) {
                out.merge(sop, frames == null || frames < 1 ? 1 : frames, Integer::sum);
            }
        }
        return out;
    }

    private List<JsonObject> query(String path, Map<String, String> keys, List<String> fields) throws IOException {
        StringBuilder q = new StringBuilder();
        for (Map.Entry<String, String> e : keys.entrySet()) {
            if (!KEY.matcher(e.getKey()).matches()) {
                throw new IllegalArgumentException("search key must be a DICOM keyword or 8 hex digits, got " + e.getKey());
            }
            q.append(q.length() == 0 ? "?" : "&").append(e.getKey()).append('=').append(enc(e.getValue()));
        }
        for (String f : fields) {
            q.append(q.length() == 0 ? "?" : "&").append("includefield=").append(f);
        }
        HttpRequest req = request(path + q).header("Accept", "application/dicom+json").GET().build();
        HttpResponse<byte[]> r = send(req, HttpResponse.BodyHandlers.ofByteArray(), path);
        check(r.statusCode(), path, r.body(), "GET");
        if (r.statusCode() == 204 || r.body().length == 0) {
            return List.of();
        }
        try {
            JsonElement e = JsonParser.parseString(new String(r.body(), StandardCharsets.UTF_8));
            if (!e.isJsonArray()) {
                throw new PacsException("GET " + path(path) + ": the server's answer is not a DICOM JSON array", r.statusCode());
            }
            List<JsonObject> out = new ArrayList<>();
            for (JsonElement x : e.getAsJsonArray()) {
                if (x.isJsonObject()) {
                    out.add(x.getAsJsonObject());
                }
            }
            return out;
        } catch (JsonParseException | IllegalStateException ex) {
            throw new PacsException("GET " + path(path) + ": the server's answer is not valid DICOM JSON", r.statusCode());
        }
    }

    /**
     * WADO-RS retrieval of a series ({@code GET /studies/S/series/R}), streamed part by part into
     * files {@code dir/000001.dcm, ...} as the response arrives, in whatever transfer syntax the
     * server stores. Returns the files written.
     */
    public List<Path> retrieveSeries(String studyUid, String seriesUid, Path dir) throws IOException {
        String path = "/studies/" + uid(studyUid) + "/series/" + uid(seriesUid);
        HttpRequest req = request(path)
                .header("Accept", "multipart/related; type=\"application/dicom\"; transfer-syntax=*").GET().build();
        HttpResponse<InputStream> r = send(req, HttpResponse.BodyHandlers.ofInputStream(), path);
        try (InputStream body = r.body()) {
            if (r.statusCode() != 200) {
                check(r.statusCode(), path, body.readNBytes(4096), "GET");
            }
            String ct = r.headers().firstValue("Content-Type").orElse("");
            String boundary = MultipartReader.boundary(ct);
            if (boundary == null) {
                throw new PacsException("GET " + path(path) + ": expected a multipart/related answer, got '" + ct + "'", 200);
            }
            List<Path> files = new ArrayList<>();
            new MultipartReader(body, boundary, maxInstanceBytes, 1_000_000).readAll((index, headers) -> {
                Path f = dir.resolve(String.format(Locale.ROOT, "%06d.dcm", index + 1));
                files.add(f);
                return new BufferedOutputStream(Files.newOutputStream(f), 1 << 16);
            });
            return files;
        } catch (PacsException e) {
            throw e;
        } catch (IOException e) {
            throw new PacsException("GET " + path(path) + ": " + describe(e), e);
        }
    }

    /**
     * STOW-RS ({@code POST /studies/S}) of DICOM files, streamed from disk. Returns what the server
     * says it stored and what failed; an HTTP error status throws.
     */
    public StowResult store(String studyUid, List<Path> files) throws IOException {
        String path = "/studies/" + uid(studyUid);
        String boundary = "rrwkv-" + UUID.randomUUID();
        byte[] partHead = ("--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] crlf = "\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] close = ("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
        long length = close.length;
        for (Path f : files) {
            length += partHead.length + Files.size(f) + crlf.length;
        }
        HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.fromPublisher(
                HttpRequest.BodyPublishers.ofInputStream(() -> {
                    List<InputStream> parts = new ArrayList<>();
                    for (Path f : files) {
                        parts.add(new ByteArrayInputStream(partHead));
                        parts.add(lazy(f));
                        parts.add(new ByteArrayInputStream(crlf));
                    }
                    parts.add(new ByteArrayInputStream(close));
                    Enumeration<InputStream> en = Collections.enumeration(parts);
                    return new SequenceInputStream(en);
                }), length);
        HttpRequest req = request(path)
                .header("Content-Type", "multipart/related; type=\"application/dicom\"; boundary=" + boundary)
                .header("Accept", "application/dicom+json").POST(body).build();
        HttpResponse<byte[]> r = send(req, HttpResponse.BodyHandlers.ofByteArray(), path);
        int s = r.statusCode();
        if (s != 200 && s != 202 && s != 409) {
            check(s, path, r.body(), "POST");
        }
        return StowResult.parse(r.body(), s, "POST " + path(path));
    }

    /** Opens the file only when the body reaches it, so that a request holds one open file at a time. */
    private static InputStream lazy(Path f) {
        return new InputStream() {
            private InputStream in;

            private InputStream in() throws IOException {
                if (in == null) {
                    in = Files.newInputStream(f);
                }
                return in;
            }

            @Override
            public int read() throws IOException {
                return in().read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = in().read(b, off, len);
                if (n < 0) {
                    close();
                }
                return n;
            }

            @Override
            public void close() throws IOException {
                if (in != null) {
                    in.close();
                }
            }
        };
    }

    private HttpRequest.Builder request(String pathAndQuery) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(timeout);
        String auth = credentials.authorization();
        if (auth != null) {
            b.header("Authorization", auth);
        }
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> h, String path) throws IOException {
        try {
            return http.send(req, h);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PacsException(req.method() + " " + path(path) + ": interrupted", e);
        } catch (UncheckedIOException e) {
            throw new PacsException(req.method() + " " + path(path) + ": " + describe(e.getCause()), e.getCause());
        } catch (IOException e) {
            throw new PacsException(req.method() + " " + path(path) + ": " + describe(e), e);
        }
    }

    private String describe(IOException e) {
        if (e instanceof HttpConnectTimeoutException) {
            return "no connection to " + base.getHost() + ":" + port() + " within " + timeout.toSeconds() + " s";
        }
        if (e instanceof HttpTimeoutException) {
            return "no answer within " + timeout.toSeconds() + " s";
        }
        if (e instanceof ConnectException) {
            return "connection refused by " + base.getHost() + ":" + port();
        }
        if (e instanceof SSLException) {
            return "TLS failure (" + e.getMessage() + "); a private CA's certificate goes into a trust store given with"
                    + " -Djavax.net.ssl.trustStore";
        }
        String m = e.getMessage();
        return "connection lost (" + (m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m)) + ")";
    }

    private int port() {
        return base.getPort() >= 0 ? base.getPort() : base.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    /** Throws for a status other than 2xx, naming the path, the status and the server's reason. */
    private void check(int status, String path, byte[] body, String method) throws PacsException {
        if (status >= 200 && status < 300) {
            return;
        }
        String reason = reason(body);
        throw new PacsException(method + " " + path(path) + ": HTTP " + status + " " + phrase(status)
                + (reason.isEmpty() ? "" : " (" + reason + ")"), status);
    }

    /** The URL path as the server sees it (the base's path + the request's), without the query. */
    private String path(String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        return (base.getRawPath() == null ? "" : base.getRawPath()) + (q < 0 ? pathAndQuery : pathAndQuery.substring(0, q));
    }

    /** The server's own words: a JSON error's Message/Details, or the first line of a text body; at most 200 characters. */
    static String reason(byte[] body) {
        if (body == null || body.length == 0) {
            return "";
        }
        String s = new String(body, 0, Math.min(body.length, 4096), StandardCharsets.UTF_8).strip();
        try {
            JsonElement e = JsonParser.parseString(s);
            if (e.isJsonObject()) {
                JsonObject o = e.getAsJsonObject();
                List<String> parts = new ArrayList<>();
                for (String k : List.of("Message", "Details", "message", "error", "detail")) {
                    if (o.has(k) && o.get(k).isJsonPrimitive()) {
                        parts.add(o.get(k).getAsString());
                    }
                }
                s = String.join(": ", parts);
            }
        } catch (JsonParseException | IllegalStateException ignored) {
            // not JSON: the text itself
        }
        if (s.startsWith("<")) {
            return ""; // an HTML error page says nothing the status does not
        }
        s = s.lines().findFirst().orElse("").strip();
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private static String phrase(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 406 -> "Not Acceptable";
            case 408 -> "Request Timeout";
            case 409 -> "Conflict";
            case 413 -> "Payload Too Large";
            case 415 -> "Unsupported Media Type";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "";
        };
    }

    /** A UID as a path segment: digits and dots only, so nothing else can reach the URL. */
    static String uid(String uid) {
        if (uid == null || !uid.matches("[0-9]+(\\.[0-9]+)*") || uid.length() > 64) {
            throw new IllegalArgumentException("not a DICOM UID: " + uid);
        }
        return uid;
    }

    private static String enc(String v) {
        return URLEncoder.encode(v, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
