package org.restorerwkv.pacs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.api.RestorationModel;

/** The workflow against a real Orthanc: a server that dies mid-series, faults, credentials. */
class OrthancRestoreTest {

    @TempDir
    static Path tmp;
    static OrthancServer orthanc;
    static RestorationModel model;

    @BeforeAll
    static void start() throws IOException {
        String why = OrthancServer.unavailable();
        assumeTrue(why == null, () -> "skipped: " + why);
        orthanc = new OrthancServer(Files.createDirectories(tmp.resolve("orthanc")));
        model = RestorationModel.load("builtin:all-in-one-light");
    }

    @AfterAll
    static void stop() throws IOException {
        if (model != null) {
            model.close();
        }
        if (orthanc != null) {
            orthanc.close();
        }
    }

    private static DicomWebClient client() {
        return new DicomWebClient(orthanc.dicomWeb(), orthanc.credentials(), Duration.ofSeconds(30));
    }

    private static PacsRestorer.Options options(int batch, int retries) {
        return new PacsRestorer.Options("auto", 0, batch, retries, Duration.ZERO, tmp);
    }

    @Test
    void serverDyingMidSeriesIsCompletedByTheNextRunWithoutDuplicates() throws IOException {
        List<Path> files = PacsFixtures.ctSeries(tmp.resolve("ct4"), 4);
        String[] uids = PacsFixtures.uids(tmp.resolve("ct4"));
        DicomWebClient c = client();
        StowResult up = c.store(uids[0], files);
        assertEquals(4, up.stored().size(), "source upload");
        SeriesInfo src = c.searchSeries(Map.of("SeriesInstanceUID", uids[1]), false).get(0);
        assertEquals(4, src.instances());
        assertEquals("CT", src.modality());

        // kill Orthanc as soon as the first STOW request (2 of 4 instances) is acknowledged
        PacsRestorer.Listener killer = new PacsRestorer.Listener() {
            @Override
            public void stored(SeriesInfo s, String derived, int stored, int total) {
                if (stored >= 2) {
                    try {
                        orthanc.kill();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            }
        };
        PacsRestorer first = new PacsRestorer(c, model, options(2, 1), killer);
        PacsException e = assertThrows(PacsException.class, () -> first.restore(src));
        assertTrue(e.getMessage().contains("2 of 4 instances of derived series " + first.derivedSeriesUid(uids[1]) + " stored"),
                e.getMessage());
        assertTrue(e.getMessage().startsWith("POST /dicom-web/studies/" + uids[0] + ": "), e.getMessage());
        assertFalse(e.getMessage().contains(OrthancServer.PASSWORD));

        orthanc.restart();
        PacsRestorer second = new PacsRestorer(c, model, options(2, 1), new PacsRestorer.Listener() { });
        assertFalse(second.isComplete(src));
        PacsRestorer.Outcome out = second.restore(src);
        assertFalse(out.alreadyDone());
        assertEquals(first.derivedSeriesUid(uids[1]), out.derivedUid());
        Map<String, Integer> derived = c.instances(uids[0], out.derivedUid());
        assertEquals(4, derived.size(), "complete, and no duplicates (a duplicate would have another SOP UID)");
        // the study holds the source and exactly one derived series
        assertEquals(2, c.searchSeries(Map.of("StudyInstanceUID", uids[0]), false).size());
        assertTrue(second.isComplete(src));
        assertTrue(second.restore(src).alreadyDone(), "a third run finds it done");
        assertTrue(second.pending(c.searchSeries(Map.of("StudyInstanceUID", uids[0]), false)).isEmpty());
    }

    @Test
    void faultsAreOneLineNamingPathStatusAndReason() throws IOException {
        DicomWebClient wrong = new DicomWebClient(orthanc.dicomWeb(), Credentials.basic(OrthancServer.USER, "wrong"),
                Duration.ofSeconds(30));
        PacsException e = assertThrows(PacsException.class, () -> wrong.searchSeries(Map.of("Modality", "CT"), false));
        assertEquals("GET /dicom-web/series: HTTP 401 Unauthorized", e.getMessage());
        assertFalse(e.transientFailure());

        PacsException missing = assertThrows(PacsException.class,
                () -> client().retrieveSeries("1.2.3", "4.5.6", Files.createDirectories(tmp.resolve("none"))));
        assertTrue(missing.getMessage().startsWith("GET /dicom-web/studies/1.2.3/series/4.5.6: HTTP 404 Not Found"),
                missing.getMessage());

        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        DicomWebClient refused = new DicomWebClient(URI.create("http://127.0.0.1:" + closed + "/dicom-web"),
                Credentials.none(), Duration.ofSeconds(5));
        PacsException r = assertThrows(PacsException.class, () -> refused.searchSeries(Map.of(), false));
        assertEquals("GET /dicom-web/series: connection refused by 127.0.0.1:" + closed, r.getMessage());
        assertTrue(r.transientFailure());
        assertThrows(IllegalArgumentException.class, () -> client().searchSeries(Map.of("Bad Key", "x"), false));
        assertThrows(IllegalArgumentException.class, () -> DicomWebClient.uid("1.2/../x"));
    }
}
