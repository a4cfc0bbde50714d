package org.restorerwkv.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.restorerwkv.api.RestorationModel;
import org.restorerwkv.infer.RestoreListener;
import org.restorerwkv.pacs.DicomWebClient;
import org.restorerwkv.pacs.PacsException;
import org.restorerwkv.pacs.PacsRestorer;
import org.restorerwkv.pacs.SeriesInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code pacs list|restore|watch}: restore series straight from a PACS over DICOMweb (docs/pacs.md). */
@Command(name = "pacs", mixinStandardHelpOptions = true,
        description = "Work with a PACS over DICOMweb (QIDO-RS, WADO-RS, STOW-RS): list series, restore them into"
            + " their study as derived series, or watch for new ones. Outputs are idempotent: a repeated run stores"
            + " the same instances, never duplicates. Nothing is deleted on the server.",
        subcommands = {PacsCommand.ListCommand.class, PacsCommand.RestoreSeries.class, PacsCommand.Watch.class})
public final class PacsCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code pacs list}: a QIDO-RS series search as a table. */
    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List series (QIDO-RS), oldest first: study and series UIDs, modality, number, instances, description.")
    static final class ListCommand implements Callable<Integer> {
        @Mixin
        PacsOptions pacs;

        @Option(names = "--filter", paramLabel = "TAG=VALUE",
                description = "Search key (repeatable): a keyword or tag, e.g. Modality=CT, StudyDate=20240101-20241231,"
                        + " StudyInstanceUID=..., PatientID=..., SeriesDescription=*chest*.")
        List<String> filters;

        @Option(names = "--show-names", description = "Also show patient names (hidden by default).")
        boolean showNames;

        @Override
        public Integer call() throws IOException {
            List<SeriesInfo> found = new ArrayList<>(pacs.client().searchSeries(PacsOptions.filters(filters), showNames));
            found.sort(java.util.Comparator.comparing(SeriesInfo::dateTime).thenComparing(SeriesInfo::seriesUid));
            PrintStream out = System.out;
            String fmt = "%-64s  %-64s  %-8s  %6s  %9s  %s%n";
            out.printf(Locale.ROOT, fmt, "STUDY", "SERIES", "MODALITY", "NUMBER", "INSTANCES",
                    showNames ? "DESCRIPTION / PATIENT" : "DESCRIPTION");
            for (SeriesInfo s : found) {
                out.printf(Locale.ROOT, fmt, s.studyUid(), s.seriesUid(), s.modality(),
                        s.seriesNumber() == null ? "" : s.seriesNumber().toString(),
                        s.instances() < 0 ? "?" : Integer.toString(s.instances()),
                        s.description() + (showNames ? " / " + s.patientName() : ""));
            }
            System.err.println(found.size() + " series");
            return 0;
        }
    }

    /** Options of the commands that restore. */
    static final class RestoreOptions {
        @Mixin
        ModelOptions model;

        @Option(names = "--modality", defaultValue = "auto", paramLabel = "ct|mri|pet|none|auto",
                description = "Normalization; auto reads each series' Modality tag (default: ${DEFAULT-VALUE}).")
        String modality;

        @Option(names = "--batch", defaultValue = "4", paramLabel = "N", description = "Slices per forward pass (default: ${DEFAULT-VALUE}).")
        int batch;

        @Option(names = "--stow-batch", defaultValue = "16", paramLabel = "N",
                description = "Instances per STOW-RS request (default: ${DEFAULT-VALUE}).")
        int stowBatch;

        @Option(names = "--retries", defaultValue = "4", paramLabel = "N",
                description = "Further tries of a failed STOW-RS request or refused instances (default: ${DEFAULT-VALUE}).")
        int retries;

        @Option(names = "--backoff", defaultValue = "2s", paramLabel = "DURATION",
                description = "First pause before a retry, doubled each time (default: ${DEFAULT-VALUE}).")
        String backoff;

        @Option(names = "--work-dir", paramLabel = "DIR", description = "Where retrieved and restored files wait (default: the system's temporary folder).")
        Path workDir;

        @Option(names = "--quiet", description = "No progress bars.")
        boolean quiet;

        PacsRestorer.Options options() throws IOException {
            Path dir = workDir == null ? Path.of(System.getProperty("java.io.tmpdir")) : workDir;
            if (!Files.isDirectory(dir)) {
                throw new IOException(dir + ": --work-dir is not a directory");
            }
            return new PacsRestorer.Options(modality, 0, stowBatch, retries, PacsOptions.duration(backoff, "--backoff"), dir);
        }

        RestorationModel open() throws IOException {
            // the tiling restore uses: whole slices unless one does not fit the memory budget
            return model.open(batch, org.restorerwkv.infer.Restorer.AUTO, 32);
        }

        /** Progress per series on stderr: retrieval, restoration bar, storage; UIDs only. */
        PacsRestorer.Listener listener() {
            return new PacsRestorer.Listener() {
                @Override
                public void skipped(SeriesInfo s, String derived, int n) {
                    System.err.println("series " + s.seriesUid() + ": already restored (" + n + " instances in " + derived + ")");
                }

                @Override
                public void retrieved(SeriesInfo s, int n) {
                    System.err.println("series " + s.seriesUid() + ": retrieved " + n + " instance(s)");
                }

                @Override
                public RestoreListener restoring(SeriesInfo s, int slices) {
                    if (quiet) {
                        return RestoreListener.NONE;
                    }
                    ProgressBar pb = new ProgressBarBuilder().setTaskName(shortUid(s.seriesUid())).setInitialMax(slices)
                            .setUnit(" slices", 1).setStyle(ProgressBarStyle.ASCII).showSpeed().setUpdateIntervalMillis(250).build();
                    return new RestoreListener() {
                        @Override
                        public void progress(int done, int total) {
                            pb.stepTo(done);
                            if (done >= total) {
                                pb.close();
                            }
                        }
                    };
                }

                @Override
                public void stored(SeriesInfo s, String derived, int stored, int total) {
                    if (stored == total || !quiet) {
                        System.err.println("series " + derived + ": " + stored + " of " + total + " instances stored");
                    }
                }

                @Override
                public void retrying(SeriesInfo s, String why, int attempt) {
                    System.err.println("series " + s.seriesUid() + ": retry " + attempt + " after: " + why);
                }
            };
        }
    }

    static String shortUid(String uid) {
        return uid.length() <= 24 ? uid : "..." + uid.substring(uid.length() - 21);
    }

    /** {@code pacs restore}: the series of a study (or the given ones) restored into the same study. */
    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = "Retrieve series of a study (WADO-RS), restore them, and store the derived series into the same study"
                + " (STOW-RS). Without --series every series of the study that is not itself a restored one.")
    static final class RestoreSeries implements Callable<Integer> {
        @Mixin
        PacsOptions pacs;

        @Mixin
        RestoreOptions restore;

        @Option(names = "--study", required = true, paramLabel = "UID", description = "StudyInstanceUID.")
        String study;

        @Option(names = "--series", paramLabel = "UID", description = "SeriesInstanceUID (repeatable); default: every source series of the study.")
        List<String> series;

        @Override
        public Integer call() throws IOException {
            DicomWebClient client = pacs.client();
            List<SeriesInfo> found = client.searchSeries(Map.of("StudyInstanceUID", study), false);
            List<SeriesInfo> chosen = new ArrayList<>();
            if (series != null) {
                for (String uid : series) {
                    SeriesInfo s = found.stream().filter(f -> f.seriesUid().equals(uid)).findFirst().orElse(null);
                    if (s == null) {
                        throw new PacsException("series " + uid + ": not in study " + study + " on " + client.base(), 404);
                    }
                    chosen.add(s);
                }
            }
            PacsRestorer.Options o = restore.options();
            try (RestorationModel model = restore.open()) {
                PacsRestorer r = new PacsRestorer(client, model, o, restore.listener());
                if (series == null) {
                    chosen = r.pending(found);
                    if (chosen.isEmpty()) {
                        System.err.println("study " + study + ": nothing to restore (" + found.size() + " series, all restored)");
                    }
                }
                int done = 0;
                for (SeriesInfo s : chosen) {
                    PacsRestorer.Outcome out = r.restore(s);
                    done += out.alreadyDone() ? 0 : 1;
                }
                System.err.println("study " + study + ": " + done + " series restored, " + (chosen.size() - done) + " already done");
            }
            return 0;
        }
    }

    /** {@code pacs watch}: restores matching series that have no complete derived series, oldest first. */
    @Command(name = "watch", mixinStandardHelpOptions = true,
            description = "Poll the PACS (QIDO-RS) for series matching the filters whose derived series is missing or"
                + " incomplete and restore them, oldest first. Keeps no local state: what is done is what the PACS holds.")
    static final class Watch implements Callable<Integer> {
        @Mixin
        PacsOptions pacs;

        @Mixin
        RestoreOptions restore;

        @Option(names = "--filter", required = true, paramLabel = "TAG=VALUE", description = "Search key (repeatable), e.g. Modality=CT.")
        List<String> filters;

        @Option(names = "--interval", defaultValue = "30s", paramLabel = "DURATION", description = "Pause between polls (default: ${DEFAULT-VALUE}).")
        String interval;

        @Option(names = "--once", description = "Process what is pending and exit (for cron and tests).")
        boolean once;

        @Override
        public Integer call() throws IOException, InterruptedException {
            DicomWebClient client = pacs.client();
            Map<String, String> keys = PacsOptions.filters(filters);
            Duration pause = PacsOptions.duration(interval, "--interval");
            PacsRestorer.Options o = restore.options();
            try (RestorationModel model = restore.open()) {
                PacsRestorer r = new PacsRestorer(client, model, o, restore.listener());
                while (true) {
                    int failed = 0;
                    try {
                        List<SeriesInfo> todo = r.pending(client.searchSeries(keys, false));
                        System.err.println("watch: " + todo.size() + " series to restore");
                        for (SeriesInfo s : todo) {
                            try {
                                r.restore(s);
                            } catch (IOException | IllegalArgumentException e) {
                                failed++;
                                System.err.println("restore-rwkv pacs watch: series " + s.seriesUid() + ": " + e.getMessage());
                            }
                        }
                    } catch (PacsException e) {
                        if (once) {
                            throw e;
                        }
                        System.err.println("restore-rwkv pacs watch: " + e.getMessage() + " (polling again in " + interval + ")");
                    }
                    if (once) {
                        return failed == 0 ? 0 : 1;
                    }
                    Thread.sleep(pause.toMillis()); // the polling interval
                }
            }
        }
    }
}
