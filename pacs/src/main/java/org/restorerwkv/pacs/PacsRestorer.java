package org.restorerwkv.pacs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.restorerwkv.api.RestorationModel;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.infer.RestoreListener;
import org.restorerwkv.infer.ScanRestorer;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.io.dicom.Derivation;
import org.restorerwkv.io.dicom.DicomWriter;
import org.restorerwkv.io.dicom.UidStrategy;

/**
 * Restores series straight from a DICOMweb server: WADO-RS retrieval into a temporary folder, the
 * model, the derived-series writer, STOW-RS into the source's study.
 *
 * <p>Idempotent by construction: the derived SeriesInstanceUID and every SOPInstanceUID are
 * {@code 2.25.} + 128 bits of SHA-256 over (source UID, model identity, operation, options), so a
 * repeated or interrupted run stores the same instances again, never duplicates, and "already
 * done" is a QIDO-RS count of the derived series. No local state; nothing is deleted on the server.
 * Not thread-safe (one series at a time; the model itself is shared safely).
 */
public final class PacsRestorer {

    /** Hears how the work advances; every method has a default that ignores it. UIDs only, no patient data. */
    public interface Listener {
        /** The derived series is complete on the server already. */
        default void skipped(SeriesInfo source, String derivedUid, int instances) {}

        default void retrieved(SeriesInfo source, int instances) {}

        /** Restoration of {@code slices} slices starts; the returned listener hears its progress. */
        default RestoreListener restoring(SeriesInfo source, int slices) {
            return RestoreListener.NONE;
        }

        /** {@code stored} of {@code total} derived instances are on the server. */
        default void stored(SeriesInfo source, String derivedUid, int stored, int total) {}

        /** A transient failure (or refused instances) is retried after a pause. */
        default void retrying(SeriesInfo source, String why, int attempt) {}
    }

    /**
     * @param modality "auto" (the DICOM Modality tag) or a modality name
     * @param axis the slice axis (0 = the stored slices)
     * @param batchInstances instances per STOW-RS request
     * @param retries further tries of a failed STOW-RS request or of refused instances
     * @param backoff the first pause before a retry, doubled each time
     * @param workDir where the temporary folders go (deleted after each series)
     */
    public record Options(String modality, int axis, int batchInstances, int retries, Duration backoff, Path workDir) {
        public Options {
            Objects.requireNonNull(modality, "modality");
            if (batchInstances < 1 || retries < 0 || backoff.isNegative() || axis < 0 || axis > 2) {
                throw new IllegalArgumentException("bad PACS options: batch " + batchInstances + ", retries " + retries
                        + ", axis " + axis);
            }
        }

        public static Options defaults() {
            return new Options("auto", 0, 16, 4, Duration.ofSeconds(2), Path.of(System.getProperty("java.io.tmpdir")));
        }
    }

    /** What happened to one source series. */
    public record Outcome(SeriesInfo source, String derivedUid, int instances, boolean alreadyDone) {}

    /** The operation mixed into the derived UIDs. */
    static final String OPERATION = "restored";

    private final DicomWebClient client;
    private final RestorationModel model;
    private final Options options;
    private final Listener listener;
    private final UidStrategy uids;

    public PacsRestorer(DicomWebClient client, RestorationModel model, Options options, Listener listener) {
        this.client = client;
        this.model = model;
        this.options = options;
        this.listener = listener;
        // everything that changes the output's pixels: the weights, the operation, the modality rule, the axis
        this.uids = UidStrategy.hashed(model.identity() + "\n" + OPERATION + "\nmodality=" + options.modality().toLowerCase(Locale.ROOT)
                + "\naxis=" + options.axis());
    }

    /** The derived series' UID for a source series. */
    public String derivedSeriesUid(String sourceSeriesUid) {
        return uids.uid("series", sourceSeriesUid, -1);
    }

    /** The instances the derived series must hold: one per frame of the source. */
    int expectedInstances(SeriesInfo source) throws IOException {
        return client.instances(source.studyUid(), source.seriesUid()).values().stream().mapToInt(Integer::intValue).sum();
    }

    /**
     * The series among {@code found} that need restoring, oldest first: those that are not
     * themselves outputs (the derived UID of a listed series, or a SeriesDescription this program
     * wrote) and whose derived series is missing or incomplete.
     */
    public List<SeriesInfo> pending(List<SeriesInfo> found) throws IOException {
        Set<String> outputs = new HashSet<>();
        for (SeriesInfo s : found) {
            outputs.add(derivedSeriesUid(s.seriesUid()));
        }
        String suffix = Derivation.restored("x").seriesSuffix().trim();
        List<SeriesInfo> todo = new ArrayList<>();
        for (SeriesInfo s : found) {
            if (outputs.contains(s.seriesUid()) || s.description().endsWith(suffix)) {
                continue;
            }
            if (!isComplete(s)) {
                todo.add(s);
            }
        }
        todo.sort(Comparator.comparing(SeriesInfo::dateTime).thenComparing(SeriesInfo::seriesUid));
        return todo;
    }

    /** True when the derived series holds as many instances as the source has frames. */
    public boolean isComplete(SeriesInfo source) throws IOException {
        int expected = expectedInstances(source);
        int have = client.instances(source.studyUid(), derivedSeriesUid(source.seriesUid())).size();
        return expected > 0 && have >= expected;
    }

    /**
     * Restores one series unless its derived series is complete. A failure while storing throws a
     * {@link PacsException} that says how many derived instances are on the server.
     */
    public Outcome restore(SeriesInfo source) throws IOException {
        String derived = derivedSeriesUid(source.seriesUid());
        int expected = expectedInstances(source);
        Map<String, Integer> existing = client.instances(source.studyUid(), derived);
        if (expected > 0 && existing.size() >= expected) {
            listener.skipped(source, derived, existing.size());
            return new Outcome(source, derived, existing.size(), true);
        }
        Path tmp = Files.createTempDirectory(options.workDir(), "restore-rwkv-pacs-");
        try {
            Path in = Files.createDirectory(tmp.resolve("in"));
            List<Path> files = client.retrieveSeries(source.studyUid(), source.seriesUid(), in);
            if (files.isEmpty()) {
                throw new PacsException("series " + source.seriesUid() + ": the server returned no instances", 200);
            }
            listener.retrieved(source, files.size());
            Volume v = VolumeFormats.read(in);
            Modality m = modality(v, source);
            Volume y;
            try {
                y = model.restore(v, m, options.axis(), listener.restoring(source, ScanRestorer.sliceCount(v, options.axis())));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(in, "series " + source.seriesUid() + ": " + e.getMessage());
            }
            // the writer asks for each instance's UID with its slice index; keep them to match files to UIDs
            Map<Integer, String> sopOf = new ConcurrentHashMap<>();
            UidStrategy recording = (kind, src, index) -> {
                String u = uids.uid(kind, src, index);
                if (kind.equals("instance")) {
                    sopOf.put(index, u);
                }
                return u;
            };
            Path out = tmp.resolve("out");
            DicomWriter.writeSeries(out, y, Derivation.restored(model.weights()).withUids(recording));
            List<Path> written;
            try (Stream<Path> s = Files.list(out)) {
                written = s.sorted().toList();
            }
            if (written.size() != sopOf.size()) {
                throw new IllegalStateException("the writer wrote " + written.size() + " files for " + sopOf.size() + " instance UIDs");
            }
            Map<String, Path> todo = new LinkedHashMap<>();
            for (int k = 0; k < written.size(); k++) {
                String sop = sopOf.get(k);
                if (sop == null) {
                    throw new IllegalStateException("no instance UID recorded for slice " + k);
                }
                if (!existing.containsKey(sop)) {
                    todo.put(sop, written.get(k));
                }
            }
            int total = written.size();
            Set<String> onServer = new HashSet<>(existing.keySet());
            onServer.retainAll(sopOf.values());
            listener.stored(source, derived, onServer.size(), total);
            store(client, options, listener, source, derived, todo, onServer, total);
            int listed = client.instances(source.studyUid(), derived).size();
            if (listed < total) {
                throw new PacsException("series " + derived + ": the server lists " + listed + " of " + total
                        + " stored instances; run again to complete it", -1);
            }
            return new Outcome(source, derived, total, false);
        } finally {
            deleteLocal(tmp);
        }
    }

    /**
     * STOW-RS of {@code todo} (SOPInstanceUID to file) in batches; refused instances and transient
     * failures are retried with back-off a bounded number of times. {@code onServer} grows with what
     * the server acknowledges; a final failure says how many of {@code total} are stored.
     */
    static void store(DicomWebClient client, Options options, Listener listener, SeriesInfo source, String derived,
            Map<String, Path> todo, Set<String> onServer, int total) throws IOException {
        List<String> queue = new ArrayList<>(todo.keySet());
        for (int i = 0; i < queue.size(); i += options.batchInstances()) {
            List<String> batch = new ArrayList<>(queue.subList(i, Math.min(queue.size(), i + options.batchInstances())));
            for (int attempt = 0; ; attempt++) {
                String why;
                try {
                    List<Path> files = batch.stream().map(todo::get).toList();
                    StowResult r = client.store(source.studyUid(), files);
                    for (String sop : batch) {
                        if (r.stored().contains(sop)) {
                            onServer.add(sop);
                        }
                    }
                    listener.stored(source, derived, onServer.size(), total);
                    Map<String, Integer> failed = new LinkedHashMap<>();
                    for (String sop : batch) {
                        if (!onServer.contains(sop)) {
                            failed.put(sop, r.failed().getOrDefault(sop, 0));
                        }
                    }
                    if (failed.isEmpty()) {
                        break;
                    }
                    batch = new ArrayList<>(failed.keySet());
                    why = failed.size() + " instance(s) refused (failure reason "
                            + String.format(Locale.ROOT, "0x%04X", failed.values().iterator().next()) + ")";
                } catch (PacsException e) {
                    if (!e.transientFailure() || attempt >= options.retries()) {
                        throw new PacsException(e.getMessage() + "; " + onServer.size() + " of " + total
                                + " instances of derived series " + derived + " stored (run again to complete it)", e.status());
                    }
                    why = e.getMessage();
                }
                if (attempt >= options.retries()) {
                    throw new PacsException("series " + derived + ": " + why + " after " + (attempt + 1) + " tries; "
                            + onServer.size() + " of " + total + " instances stored", 200);
                }
                listener.retrying(source, why, attempt + 1);
                pause(options.backoff().multipliedBy(1L << Math.min(attempt, 10)));
            }
        }
    }

    /** A pause between retries (back-off against a struggling server), not a synchronisation. */
    private static void pause(Duration d) throws PacsException {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PacsException("interrupted", e);
        }
    }

    private Modality modality(Volume v, SeriesInfo source) throws IOException {
        if (!options.modality().equalsIgnoreCase("auto")) {
            return Modality.parse(options.modality());
        }
        Modality m = ScanRestorer.declaredModality(v);
        if (m == null) {
            throw new IllegalArgumentException("series " + source.seriesUid() + ": modality " + (source.modality().isEmpty()
                    ? "missing" : source.modality()) + " has no normalization; give --modality ct|mri|pet|none");
        }
        return m;
    }

    /** Removes this run's own temporary folder (local files only). */
    private static void deleteLocal(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
