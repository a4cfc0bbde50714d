package org.restorerwkv.train;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.restorerwkv.io.AtomicFiles;
import org.restorerwkv.io.InvalidInputException;

/**
 * The curves of a run: {@code train_log.csv} (iteration, loss, lr per step),
 * {@code val_log.csv} (iteration, modality, PSNR, SSIM, RMSE per validation; modality MEAN is the
 * model-selection score). (The command line adds {@code curves.png}, drawn from these rows.)
 * Files are rewritten whole, atomically, when the trainer writes its latest checkpoint, so after
 * a crash they agree with that checkpoint.
 */
public final class TrainLog {

    public static final String TRAIN_CSV = "train_log.csv";
    public static final String VAL_CSV = "val_log.csv";

    /** One optimizer step. */
    public record Step(long iteration, double loss, double lr) {}

    /** One validation metric row. */
    public record Val(long iteration, String modality, double psnr, double ssim, double rmse) {}

    private final List<Step> steps = new ArrayList<>();
    private final List<Val> vals = new ArrayList<>();

    public void addStep(long iteration, double loss, double lr) {
        steps.add(new Step(iteration, loss, lr));
    }

    public void addVal(long iteration, String modality, double psnr, double ssim, double rmse) {
        vals.add(new Val(iteration, modality, psnr, ssim, rmse));
    }

    public List<Step> steps() {
        return Collections.unmodifiableList(steps);
    }

    public List<Val> vals() {
        return Collections.unmodifiableList(vals);
    }

    /** The logs of a run directory up to and including {@code upTo} (later rows are dropped). */
    public static TrainLog read(Path runDir, long upTo) throws IOException {
        TrainLog log = new TrainLog();
        Path t = runDir.resolve(TRAIN_CSV);
        if (Files.exists(t)) {
            for (String[] f : rows(t, 3)) {
                long it = Long.parseLong(f[0]);
                if (it <= upTo) {
                    log.addStep(it, Double.parseDouble(f[1]), Double.parseDouble(f[2]));
                }
            }
        }
        Path v = runDir.resolve(VAL_CSV);
        if (Files.exists(v)) {
            for (String[] f : rows(v, 5)) {
                long it = Long.parseLong(f[0]);
                if (it <= upTo) {
                    log.addVal(it, f[1], Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4]));
                }
            }
        }
        return log;
    }

    private static List<String[]> rows(Path file, int columns) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String[]> out = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            String[] f = lines.get(i).split(",", -1);
            if (f.length != columns) {
                throw new InvalidInputException(file, "line " + (i + 1) + ": expected " + columns + " columns");
            }
            try {
                Long.parseLong(f[0]);
            } catch (NumberFormatException e) {
                throw new InvalidInputException(file, "line " + (i + 1) + ": bad iteration '" + f[0] + "'");
            }
            out.add(f);
        }
        return out;
    }

    /** Rewrites both CSV files in {@code runDir}. */
    public void write(Path runDir) throws IOException {
        StringBuilder t = new StringBuilder("iteration,loss,lr\n");
        for (Step s : steps) {
            t.append(s.iteration()).append(',').append(s.loss()).append(',').append(s.lr()).append('\n');
        }
        text(runDir.resolve(TRAIN_CSV), t.toString());
        StringBuilder v = new StringBuilder("iteration,modality,psnr,ssim,rmse\n");
        for (Val r : vals) {
            v.append(r.iteration()).append(',').append(r.modality()).append(',').append(r.psnr()).append(',')
                    .append(r.ssim()).append(',').append(r.rmse()).append('\n');
        }
        text(runDir.resolve(VAL_CSV), v.toString());
    }

    private static void text(Path file, String s) throws IOException {
        AtomicFiles.write(file, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            w.write(s);
            w.flush();
        });
    }

}
