package org.restorerwkv.pacs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * STOW-RS retries against a scripted server on 127.0.0.1: a partial response (FailedSOPSequence)
 * sends only the refused instances again; a 503 is retried; both are bounded.
 */
class StowRetryTest {

    @TempDir
    Path tmp;
    HttpServer server;
    /** The SOP UIDs each request carried (the file content is the UID). */
    final List<List<String>> requests = new ArrayList<>();

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    /** Answers request n (0-based) with status and body from the script, given the UIDs it carried. */
    private DicomWebClient serve(Function<Integer, Function<List<String>, Object[]>> script) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/dicom-web/studies/", ex -> {
            String ct = ex.getRequestHeaders().getFirst("Content-Type");
            String boundary = MultipartReader.boundary(ct);
            List<String> uids = new ArrayList<>();
            new MultipartReader(ex.getRequestBody(), boundary, 1 << 20, 100).readAll((i, h) -> {
                java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream() {
                    @Override
                    public void close() {
                        uids.add(toString(StandardCharsets.US_ASCII));
                    }
                };
                return o;
            });
            Object[] answer;
            synchronized (requests) {
                requests.add(uids);
                answer = script.apply(requests.size() - 1).apply(uids);
            }
            byte[] body = ((String) answer[1]).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/dicom+json");
            ex.sendResponseHeaders((Integer) answer[0], body.length == 0 ? -1 : body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        return new DicomWebClient(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/dicom-web"),
                Credentials.none(), Duration.ofSeconds(10));
    }

    private static String response(List<String> stored, List<String> failed) {
        StringBuilder b = new StringBuilder("{\"00081199\":{\"vr\":\"SQ\",\"Value\":[");
        for (int i = 0; i < stored.size(); i++) {
            b.append(i == 0 ? "" : ",").append("{\"00081155\":{\"vr\":\"UI\",\"Value\":[\"").append(stored.get(i)).append("\"]}}");
        }
        b.append("]},\"00081198\":{\"vr\":\"SQ\",\"Value\":[");
        for (int i = 0; i < failed.size(); i++) {
            b.append(i == 0 ? "" : ",").append("{\"00081155\":{\"vr\":\"UI\",\"Value\":[\"").append(failed.get(i))
                    .append("\"]},\"00081197\":{\"vr\":\"US\",\"Value\":[49152]}}");
        }
        return b.append("]}}").toString();
    }

    private Map<String, Path> files(int n) throws IOException {
        Map<String, Path> m = new LinkedHashMap<>();
        for (int i = 1; i <= n; i++) {
            String uid = "2.25." + i;
            m.put(uid, Files.writeString(tmp.resolve(i + ".dcm"), uid));
        }
        return m;
    }

    private static final SeriesInfo SOURCE = new SeriesInfo("1.2", "1.2.3", "CT", "", 1, 3, "", null);

    private static PacsRestorer.Options options(int retries) {
        return new PacsRestorer.Options("auto", 0, 2, retries, Duration.ZERO, Path.of("."));
    }

    @Test
    void refusedInstancesAloneAreSentAgain() throws IOException {
        DicomWebClient c = serve(n -> uids -> n == 0
                ? new Object[] {202, response(uids.subList(1, uids.size()), uids.subList(0, 1))}
                : new Object[] {200, response(uids, List.of())});
        Set<String> onServer = new HashSet<>();
        PacsRestorer.store(c, options(2), new PacsRestorer.Listener() { }, SOURCE, "9.9", files(3), onServer, 3);
        assertEquals(Set.of("2.25.1", "2.25.2", "2.25.3"), onServer);
        assertEquals(List.of(List.of("2.25.1", "2.25.2"), List.of("2.25.1"), List.of("2.25.3")), requests);
    }

    @Test
    void transientFailuresAreRetriedBoundedly() throws IOException {
        DicomWebClient c = serve(n -> uids -> n == 1 ? new Object[] {503, "{\"Message\":\"busy\"}"}
                : new Object[] {200, response(uids, List.of())});
        Set<String> onServer = new HashSet<>();
        PacsRestorer.store(c, options(1), new PacsRestorer.Listener() { }, SOURCE, "9.9", files(3), onServer, 3);
        assertEquals(3, onServer.size());
        assertEquals(3, requests.size());

        requests.clear();
        stop();
        DicomWebClient down = serve(n -> uids -> n == 0 ? new Object[] {200, response(uids, List.of())}
                : new Object[] {503, "{\"Message\":\"busy\"}"});
        Set<String> some = new HashSet<>();
        PacsException e = assertThrows(PacsException.class, () -> PacsRestorer.store(down, options(2),
                new PacsRestorer.Listener() { }, SOURCE, "9.9", files(3), some, 3));
        assertEquals("POST /dicom-web/studies/1.2: HTTP 503 Service Unavailable (busy); 2 of 3 instances of derived series 9.9"
                + " stored (run again to complete it)", e.getMessage());
        assertEquals(1 + 3, requests.size(), "one success, then the first try and two retries");

        requests.clear();
        stop();
        DicomWebClient refusing = serve(n -> uids -> new Object[] {202, response(List.of(), uids)});
        PacsException r = assertThrows(PacsException.class, () -> PacsRestorer.store(refusing, options(1),
                new PacsRestorer.Listener() { }, SOURCE, "9.9", files(1), new HashSet<>(), 1));
        assertTrue(r.getMessage().contains("1 instance(s) refused (failure reason 0xC000) after 2 tries; 0 of 1 instances stored"),
                r.getMessage());
    }
}
