package org.restorerwkv.data;

import org.restorerwkv.domain.Modality;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.restorerwkv.degrade.CtLowDose;
import org.restorerwkv.degrade.Degradation;
import org.restorerwkv.degrade.Degradations;
import org.restorerwkv.degrade.MriKspace;
import org.restorerwkv.degrade.PetLowCount;
import org.restorerwkv.degrade.PetPhantom;
import org.restorerwkv.degrade.Seeds;
import org.restorerwkv.io.ImageFormat;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.Panels;
import org.restorerwkv.io.Volume;

/**
 * A slice simulator applied to whole volumes: one of the {@link Degradations} tasks, or
 * {@value #PET_PHANTOM} (a T1 MRI turned into an FDG-like PET activity map by
 * {@link PetPhantom#fromT1}).
 *
 * <p>Slices are the volume's axial slices (index k of (depth, height, width)); slice k is
 * processed with seed {@code Seeds.forSlice(seed, k)}, so the result depends on the seed and not
 * on the number of threads or the order of work.
 *
 * <p>Pixel spacing. The CT simulator ({@code pixel-mm}) and the PET phantom ({@code pixel-mm}, for
 * the scanner resolution in pixels) need the in-plane pixel size. Unless the parameter is given,
 * it is taken from the volume when the volume's geometry is known (it came from NIfTI or DICOM);
 * both simulators model square pixels, so unequal row and column spacings are an error. Volumes
 * without geometry (NPY, PNG, TIFF) use the simulator's default (CT 0.7 mm, phantom 0.94 mm).
 */
public final class Simulation {

    /** Task name of the T1-to-PET phantom. */
    public static final String PET_PHANTOM = "pet-phantom";

    /** Every task name, in the order shown to users. */
    public static final List<String> TASKS = List.of(CtLowDose.TASK, MriKspace.TASK, PetLowCount.TASK, PET_PHANTOM);

    /** Relative difference up to which row and column spacings count as one square pixel. */
    private static final double SQUARE_TOLERANCE = 1e-3;

    /** A per-slice operation: a degradation or the phantom. */
    @FunctionalInterface
    public interface SliceOp {
        float[] apply(float[] slice, int height, int width, long seed);
    }

    /** The simulation resolved for one volume: the operation, its one-line description and pixel size. */
    public record Bound(SliceOp op, String description, Double pixelMm) {}

    private final String task;
    private final Map<String, String> params;

    private Simulation(String task, Map<String, String> params) {
        this.task = task;
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /**
     * Checks the task and parameters once (before any file is read) and keeps them.
     *
     * @throws IllegalArgumentException one line naming the task and the problem
     */
    public static Simulation parse(String task, Map<String, String> params) {
        if (task == null || !TASKS.contains(task)) {
            throw new IllegalArgumentException("unknown task '" + task + "' (" + String.join(", ", TASKS) + ")");
        }
        Simulation s = new Simulation(task, params == null ? Map.of() : params);
        s.resolve(null); // validates the parameters
        return s;
    }

    public String task() {
        return task;
    }

    /** The parameters as given (pixel-mm only if given explicitly). */
    public Map<String, String> params() {
        return params;
    }

    /** The modality of the simulation's output: CT, MRI or PET. */
    public Modality outputModality() {
        return switch (task) {
            case CtLowDose.TASK -> Modality.CT;
            case MriKspace.TASK -> Modality.MRI;
            default -> Modality.PET;
        };
    }

    /** Whether the output is a degraded version of the input in the same units (false for the phantom). */
    public boolean isDegradation() {
        return !task.equals(PET_PHANTOM);
    }

    /** The simulation for volume {@code v} (pixel spacing taken from it where needed and known). */
    public Bound bind(Volume v) {
        return resolve(v);
    }

    private Bound resolve(Volume v) {
        Map<String, String> p = new LinkedHashMap<>(params);
        Double pixel = null;
        boolean usesPixel = task.equals(CtLowDose.TASK) || task.equals(PET_PHANTOM);
        if (usesPixel && !p.containsKey("pixel-mm") && v != null && hasGeometry(v)) {
            double rows = v.spacing()[1];
            double cols = v.spacing()[2];
            if (!(rows > 0) || !(cols > 0) || !Double.isFinite(rows) || !Double.isFinite(cols)) {
                throw new IllegalArgumentException(task + ": pixel spacing " + rows + " x " + cols
                        + " mm is not usable; give pixel-mm");
            }
            if (Math.abs(rows - cols) > SQUARE_TOLERANCE * Math.max(rows, cols)) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "%s: pixels are %g x %g mm but the simulator models square pixels; give pixel-mm to override",
                        task, rows, cols));
            }
            p.put("pixel-mm", Double.toString(cols));
        }
        if (task.equals(PET_PHANTOM)) {
            return phantom(p);
        }
        Degradation d = Degradations.parse(task, p);
        if (d instanceof CtLowDose ct) {
            pixel = ct.pixelMm();
        }
        return new Bound(d::apply, d.describe(), pixel);
    }

    /** Geometry is known for volumes read from NIfTI or DICOM (NPY/PNG/TIFF carry none). */
    public static boolean hasGeometry(Volume v) {
        return v.nifti() != null || !v.dicom().isEmpty();
    }

    private Bound phantom(Map<String, String> p) {
        Set<String> known = new TreeSet<>(List.of("pixel-mm", "fwhm-mm", "grey-suv"));
        for (String key : p.keySet()) {
            if (!known.contains(key)) {
                throw new IllegalArgumentException(PET_PHANTOM + ": unknown parameter '" + key + "' ("
                        + String.join(", ", known) + ")");
            }
        }
        double pixelMm = number(p, "pixel-mm", 0.94);
        double fwhmMm = number(p, "fwhm-mm", 5.0);
        double greySuv = number(p, "grey-suv", 8.0);
        try {
            PetPhantom.fromT1(new float[] {0f}, 1, 1, pixelMm, fwhmMm, greySuv); // range checks
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PET_PHANTOM + ": " + e.getMessage());
        }
        String description = String.format(Locale.ROOT,
                "%s: T1 -> FDG activity (grey:white:CSF = 4:1:0), grey matter %s SUV, %s mm FWHM, pixel %s mm",
                PET_PHANTOM, greySuv, fwhmMm, pixelMm);
        return new Bound((slice, h, w, seed) -> PetPhantom.fromT1(slice, h, w, pixelMm, fwhmMm, greySuv),
                description, pixelMm);
    }

    private static double number(Map<String, String> p, String key, double def) {
        String v = p.get(key);
        if (v == null) {
            return def;
        }
        try {
            double x = Double.parseDouble(v.trim());
            if (!Double.isFinite(x)) {
                throw new IllegalArgumentException(PET_PHANTOM + ": " + key + " '" + v + "' is not a finite number");
            }
            return x;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(PET_PHANTOM + ": " + key + " '" + v + "' is not a number");
        }
    }

    /** Tiles of a picture and a line saying what they show. */
    public record Panel(List<Panels.Tile> tiles, String legend) {}

    /**
     * A picture of one slice: for a degradation [input | output | |output - input|], for the
     * phantom [T1 | PET]. Images use {@code window} when given; otherwise CT uses its evaluation
     * window ({@link Modality#CT}) and other data [0, 99.5th percentile of the input] (the phantom's
     * PET [0, its maximum]). The difference is shown on [0, its 99.5th percentile].
     */
    public Panel panel(float[] in, float[] out, ImageFormat.Window window) {
        String units = outputModality().units();
        if (!isDegradation()) {
            ImageFormat.Window t1 = window != null ? window : upTo(Panels.quantile(in, 0.995));
            ImageFormat.Window pet = upTo(Panels.quantile(out, 1.0));
            return new Panel(List.of(new Panels.Tile(in, t1), new Panels.Tile(out, pet)),
                    "T1 " + show(t1) + " | PET " + show(pet) + " SUV");
        }
        ImageFormat.Window w = window;
        if (w == null) {
            Modality m = outputModality();
            w = m == Modality.CT ? new ImageFormat.Window(m.windowLow(), m.windowHigh())
                    : upTo(Panels.quantile(in, 0.995));
        }
        float[] diff = Panels.absDifference(out, in);
        ImageFormat.Window dw = upTo(Panels.quantile(diff, 0.995));
        return new Panel(List.of(new Panels.Tile(in, w), new Panels.Tile(out, w), new Panels.Tile(diff, dw)),
                "input | " + task + " | |difference|; images " + show(w) + " " + units + ", difference "
                        + show(dw) + " " + units);
    }

    /** [0, hi], or [0, 1] when hi is not positive (an empty slice). */
    private static ImageFormat.Window upTo(double hi) {
        return new ImageFormat.Window(0, hi > 0 ? hi : 1);
    }

    private static String show(ImageFormat.Window w) {
        return String.format(Locale.ROOT, "[%.4g, %.4g]", w.lo(), w.hi());
    }

    /**
     * Applies the simulation to every slice of {@code v} on {@code threads} threads; the result
     * keeps v's geometry and metadata. A slice the simulator refuses (e.g. NaN values), or a pixel
     * spacing it cannot use, is an {@link InvalidInputException} naming {@code source}.
     */
    public Volume apply(Volume v, long seed, int threads, Path source) throws InvalidInputException {
        Bound b;
        try {
            b = bind(v);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(source, e.getMessage(), e); // the volume's spacing does not fit
        }
        return apply(v, b.op(), seed, threads, source);
    }

    /** Applies {@code op} slice by slice, slice k with seed {@code Seeds.forSlice(seed, k)}. */
    public static Volume apply(Volume v, SliceOp op, long seed, int threads, Path source) throws InvalidInputException {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        int h = v.height();
        int w = v.width();
        int n = v.sliceSize();
        float[] out = new float[v.voxels().length];
        int workers = Math.min(threads, v.depth());
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "simulate");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> jobs = new ArrayList<>();
            for (int k = 0; k < v.depth(); k++) {
                int slice = k;
                jobs.add(pool.submit(() -> {
                    float[] y = op.apply(v.slice(slice), h, w, Seeds.forSlice(seed, slice));
                    System.arraycopy(y, 0, out, slice * n, n);
                }));
            }
            for (int k = 0; k < jobs.size(); k++) { // first failure in slice order: a stable message
                try {
                    jobs.get(k).get();
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof IllegalArgumentException) {
                        throw new InvalidInputException(source, "slice " + k + ": " + c.getMessage(), c);
                    }
                    if (c instanceof RuntimeException r) {
                        throw r;
                    }
                    throw (Error) c;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted");
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return v.withVoxels(out);
    }
}
