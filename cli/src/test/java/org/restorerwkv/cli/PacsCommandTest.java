package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.pacs.DicomWebClient;
import org.restorerwkv.pacs.OrthancServer;
import org.restorerwkv.pacs.PacsFixtures;
import org.restorerwkv.pacs.SeriesInfo;

/**
 * {@code pacs list|restore|watch} against a real Orthanc: a CT and an MR series uploaded with
 * STOW-RS; the watcher restores only the matching one and then nothing; restored series equal
 * file-based {@code restore} of the same files voxel for voxel.
 */
class PacsCommandTest {

    private static final String MODEL = "builtin:all-in-one-light";

    @TempDir
    static Path tmp;
    static OrthancServer orthanc;
    static DicomWebClient client;
    static Path ct;
    static Path mr;
    static Path passwordFile;

    @BeforeAll
    static void start() throws IOException {
        String why = OrthancServer.unavailable();
        assumeTrue(why == null, () -> "skipped: " + why);
        orthanc = new OrthancServer(Files.createDirectories(tmp.resolve("orthanc")));
        client = new DicomWebClient(orthanc.dicomWeb(), orthanc.credentials(), Duration.ofSeconds(30));
        ct = tmp.resolve("ct");
        mr = tmp.resolve("mr");
        upload(PacsFixtures.ctSeries(ct, 3), ct);
        upload(PacsFixtures.mrSeries(mr), mr);
        passwordFile = Files.writeString(tmp.resolve("password"), OrthancServer.PASSWORD + "\n");
    }

    private static void upload(List<Path> files, Path dir) throws IOException {
        assertEquals(files.size(), client.store(PacsFixtures.uids(dir)[0], files).stored().size());
    }

    @AfterAll
    static void stop() throws IOException {
        if (orthanc != null) {
            orthanc.close();
        }
    }

    /** Runs a command line; returns {exit code, stdout, stderr}. */
    private static String[] run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = Main.run(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        String se = e.toString(StandardCharsets.UTF_8);
        err.print(se);
        return new String[] {Integer.toString(rc), o.toString(StandardCharsets.UTF_8), se};
    }

    private static String[] pacs(String command, String password, String... more) {
        List<String> a = new ArrayList<>(List.of("pacs", command, "--url", orthanc.dicomWeb().toString(), "--user",
                OrthancServer.USER, "--password-file", password));
        a.addAll(List.of(more));
        return run(a.toArray(String[]::new));
    }

    private static List<SeriesInfo> studySeries(String study) throws IOException {
        return client.searchSeries(Map.of("StudyInstanceUID", study), false);
    }

    /** The restored series of a study, retrieved with WADO-RS and read. */
    private static Path derived(String study, String source) throws IOException {
        SeriesInfo d = studySeries(study).stream().filter(s -> !s.seriesUid().equals(source)).findFirst().orElseThrow();
        Path dir = Files.createDirectories(tmp.resolve("back-" + d.seriesUid()));
        client.retrieveSeries(study, d.seriesUid(), dir);
        return dir;
    }

    /** dciodvfy's Error lines for a file, or null when dicom3tools is not installed. */
    private static Set<String> dciodvfyErrors(Path file) throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of("/usr/bin/dciodvfy"))) {
            return null;
        }
        Process p = new ProcessBuilder("/usr/bin/dciodvfy", file.toString()).redirectErrorStream(true).start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "dciodvfy finishes");
        } finally {
            p.destroyForcibly(); // only the process this test started
        }
        // a bad UID of the source is flagged again where the output references it (Source Image
        // Sequence): the same error, so compare the UID, not the attribute it sits in (as DciodvfyTest)
        return out.lines().filter(l -> l.startsWith("Error")).map(l -> {
            int in = l.indexOf("\" in (");
            return l.startsWith("Error - Illegal root for UID") && in > 0 ? l.substring(0, in + 1) : l.strip();
        }).collect(Collectors.toCollection(TreeSet::new));
    }

    /** Every restored instance, as the PACS serves it back, adds no dciodvfy error to its source's. */
    private static void assertConformant(Path source, Path restored) throws IOException, InterruptedException {
        Set<String> before = new TreeSet<>();
        for (Path f : PacsFixtures.files(source)) {
            Set<String> e = dciodvfyErrors(f);
            if (e == null) {
                System.err.println("dciodvfy (dicom3tools) not installed: conformance of the PACS round trip not checked");
                return;
            }
            before.addAll(e);
        }
        for (Path f : PacsFixtures.files(restored)) {
            Set<String> after = dciodvfyErrors(f);
            after.removeAll(before);
            assertTrue(after.isEmpty(), f + ": " + after);
        }
    }

    private static void assertSameAsFileRestore(Path src, Volume fromPacs) throws IOException {
        Path out = tmp.resolve("file-" + src.getFileName());
        String[] r = run("restore", "--weights", MODEL, "--input", src.toString(), "--output", out.toString(), "--quiet");
        assertEquals("0", r[0], r[2]);
        Volume file = VolumeFormats.read(out);
        assertEquals(file.depth(), fromPacs.depth());
        assertArrayEquals(file.voxels(), fromPacs.voxels(), "every voxel of " + src.getFileName());
        assertArrayEquals(file.affine(), fromPacs.affine(), 1e-9);
    }

    @Test
    void watchRestoresOnlyMatchingSeriesOnceAndRestoreMatchesFileRestore() throws Exception {
        String[] ctUids = PacsFixtures.uids(ct);
        String[] mrUids = PacsFixtures.uids(mr);

        String[] w = pacs("watch", passwordFile.toString(), "--filter", "Modality=CT", "--once", "--weights", MODEL,
                "--quiet", "--backoff", "0s");
        assertEquals("0", w[0], w[2]);
        assertTrue(w[2].contains("watch: 1 series to restore"), w[2]);
        assertEquals(2, studySeries(ctUids[0]).size(), "CT restored into its study");
        assertEquals(1, studySeries(mrUids[0]).size(), "MR not touched by a CT watcher");
        assertFalse(w[2].contains(OrthancServer.PASSWORD));

        String[] again = pacs("watch", passwordFile.toString(), "--filter", "Modality=CT", "--once", "--weights", MODEL, "--quiet");
        assertEquals("0", again[0], again[2]);
        assertTrue(again[2].contains("watch: 0 series to restore"), again[2]);
        assertEquals(2, studySeries(ctUids[0]).size());

        String[] r = pacs("restore", passwordFile.toString(), "--study", mrUids[0], "--weights", MODEL, "--quiet");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[2].contains("study " + mrUids[0] + ": 1 series restored"), r[2]);
        String[] rAgain = pacs("restore", passwordFile.toString(), "--study", mrUids[0], "--series", mrUids[1],
                "--weights", MODEL, "--quiet");
        assertEquals("0", rAgain[0], rAgain[2]);
        assertTrue(rAgain[2].contains("already restored"), rAgain[2]);
        assertEquals(2, studySeries(mrUids[0]).size());

        Path ctBack = derived(ctUids[0], ctUids[1]);
        Path mrBack = derived(mrUids[0], mrUids[1]);
        assertSameAsFileRestore(ct, VolumeFormats.read(ctBack));
        assertSameAsFileRestore(mr, VolumeFormats.read(mrBack));
        assertConformant(ct, ctBack);
        assertConformant(mr, mrBack);

        String[] list = pacs("list", passwordFile.toString());
        assertEquals("0", list[0], list[2]);
        for (String uid : new String[] {ctUids[1], mrUids[1]}) {
            assertTrue(list[1].contains(uid), list[1]);
        }
        assertTrue(list[1].lines().anyMatch(l -> l.contains(mrUids[1]) && l.contains(" MR ")), list[1]);
        String name = VolumeFormats.read(ct).dicom().get(0).string(0x00100010);
        assertTrue(name != null && !name.isBlank());
        assertFalse(list[1].contains(name), "no patient names by default");
        String[] named = pacs("list", passwordFile.toString(), "--filter", "Modality=CT", "--show-names");
        assertTrue(named[1].contains(name), named[1]);
        assertFalse(named[1].contains(mrUids[1]), "filtered to CT");
    }

    @Test
    void wrongPasswordIsOneLineAndExitOne() throws IOException {
        Path wrong = Files.writeString(tmp.resolve("wrong"), "not-the-password");
        String[] r = pacs("list", wrong.toString());
        assertEquals("1", r[0]);
        assertEquals(List.of("restore-rwkv pacs list: GET /dicom-web/series: HTTP 401 Unauthorized"), r[2].lines().toList());
        String[] s = pacs("restore", wrong.toString(), "--study", "1.2.3", "--weights", MODEL);
        assertEquals("1", s[0]);
        assertEquals(1, s[2].lines().count(), s[2]);
        assertFalse(s[2].contains("not-the-password"));
    }
}
