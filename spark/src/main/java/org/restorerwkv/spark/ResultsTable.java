package org.restorerwkv.spark;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The results table: one row per scan with the columns input, output, status, slices, seconds,
 * error; CSV (RFC 4180, a header row) or, for a name ending in {@code .jsonl} / {@code .json},
 * JSON lines with the same keys. Written to a temporary name and renamed over the previous table.
 */
final class ResultsTable {

    static final String[] COLUMNS = {"input", "output", "status", "slices", "seconds", "error"};

    private ResultsTable() {}

    static boolean isJsonLines(Path p) {
        String n = p.getName().toLowerCase(Locale.ROOT);
        return n.endsWith(".jsonl") || n.endsWith(".json");
    }

    static void write(Path table, List<ScanResult> rows, Configuration conf) throws IOException {
        FileSystem fs = ScanRestore.fileSystem(table, conf);
        Path temp = new Path(table.getParent(), "." + table.getName() + ".tmp");
        try (Writer w = new OutputStreamWriter(fs.create(temp, true), StandardCharsets.UTF_8)) {
            if (isJsonLines(table)) {
                Gson gson = new GsonBuilder().disableHtmlEscaping().create();
                for (ScanResult r : rows) {
                    JsonObject o = new JsonObject();
                    o.addProperty("input", r.input());
                    o.addProperty("output", r.output());
                    o.addProperty("status", r.status());
                    o.addProperty("slices", r.slices());
                    o.addProperty("seconds", Math.round(r.seconds() * 1000) / 1000.0);
                    o.addProperty("error", r.error());
                    w.write(gson.toJson(o));
                    w.write('\n');
                }
            } else {
                try (CSVPrinter p = CSVFormat.DEFAULT.builder().setHeader(COLUMNS).setRecordSeparator("\n").get().print(w)) {
                    for (ScanResult r : rows) {
                        p.printRecord(r.input(), r.output(), r.status(), r.slices(),
                                String.format(Locale.ROOT, "%.3f", r.seconds()), r.error());
                    }
                }
            }
        }
        if (fs.exists(table)) {
            fs.delete(table, false);
        }
        if (!fs.rename(temp, table)) {
            throw new IOException(table + ": cannot rename " + temp + " to it");
        }
    }
}
