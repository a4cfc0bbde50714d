package org.restorerwkv.degrade;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Builds a {@link Degradation} from a task name and {@code key=value} parameters, as given on a
 * command line. Every error is an {@link IllegalArgumentException} with a one-line message.
 *
 * <pre>
 * ct-lowdose    dose (required, (0,1]; "1/4" accepted), photons, electronic-noise, mu-water,
 *               pixel-mm, views, detector-pitch-mm, bins, geometry (parallel|fan),
 *               source-iso-mm, source-detector-mm (fan only), filter (ram-lak|shepp-logan|hann),
 *               cutoff, mode (insert-noise|noiseless-input|reconstruct)
 * mri-sr        scale (required, >= 1), noise
 * pet-lowcount  fraction (required, (0,1]; "1/12" accepted), counts, mode
 *               (insert-noise|noiseless-input), domain (image|sinogram), views, iterations,
 *               subsets (sinogram only)
 * </pre>
 */
public final class Degradations {

    public static final Set<String> TASKS = Set.of(CtLowDose.TASK, MriKspace.TASK, PetLowCount.TASK);

    private Degradations() {
    }

    /** Parses "k1=v1,k2=v2" (blank: no parameters); keys must not repeat. */
    public static Map<String, String> parseParams(String spec) {
        Map<String, String> out = new LinkedHashMap<>();
        if (spec == null || spec.isBlank()) {
            return out;
        }
        for (String part : spec.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0 || eq == part.length() - 1) {
                throw new IllegalArgumentException("parameter '" + part.trim() + "' is not key=value");
            }
            String key = part.substring(0, eq).trim();
            if (out.put(key, part.substring(eq + 1).trim()) != null) {
                throw new IllegalArgumentException("parameter '" + key + "' given twice");
            }
        }
        return out;
    }

    /** The degradation for {@code task} with {@code params}; missing optional keys take defaults. */
    public static Degradation parse(String task, Map<String, String> params) {
        if (task == null || !TASKS.contains(task)) {
            throw new IllegalArgumentException("unknown task '" + task + "' (" + String.join(", ", new TreeSet<>(TASKS)) + ")");
        }
        Params p = new Params(task, params == null ? Map.of() : params);
        Degradation d = switch (task) {
            case CtLowDose.TASK -> ct(p);
            case MriKspace.TASK -> {
                double scale = p.number("scale", null);
                double noise = p.number("noise", 0.0);
                yield p.wrap(() -> new MriKspace(scale, noise));
            }
            default -> pet(p);
        };
        p.rejectUnused();
        return d;
    }

    private static CtLowDose ct(Params p) {
        CtLowDose.Builder b = CtLowDose.builder().dose(p.number("dose", null));
        p.ifNumber("photons", b::photonsPerRay);
        p.ifNumber("electronic-noise", b::electronicNoise);
        p.ifNumber("mu-water", b::muWater);
        p.ifNumber("pixel-mm", b::pixelMm);
        p.ifInteger("views", b::views);
        p.ifNumber("detector-pitch-mm", b::detectorPitchMm);
        p.ifInteger("bins", b::bins);
        p.ifNumber("cutoff", b::filterCutoff);
        String filter = p.text("filter");
        if (filter != null) {
            b.apodization(p.wrap(() -> Apodization.parse(filter)));
        }
        String mode = p.text("mode");
        if (mode != null) {
            b.mode(p.wrap(() -> CtLowDose.Mode.parse(mode)));
        }
        String geometry = p.text("geometry");
        if (geometry == null || geometry.equalsIgnoreCase("parallel")) {
            p.forbid("source-iso-mm", "geometry=fan");
            p.forbid("source-detector-mm", "geometry=fan");
        } else if (geometry.equalsIgnoreCase("fan")) {
            BeamGeometry.Fan def = BeamGeometry.Fan.siemensDefinition();
            double sid = p.number("source-iso-mm", def.sourceToIsoMm());
            double sdd = p.number("source-detector-mm", def.sourceToDetectorMm());
            b.geometry(p.wrap(() -> new BeamGeometry.Fan(sid, sdd)));
        } else {
            throw p.error("geometry '" + geometry + "' is not parallel or fan");
        }
        return p.wrap(b::build);
    }

    private static PetLowCount pet(Params p) {
        double fraction = p.number("fraction", null);
        double counts = p.number("counts", 1e6);
        String modeText = p.text("mode");
        PetLowCount.Mode mode = modeText == null ? PetLowCount.Mode.INSERT_NOISE
                : p.wrap(() -> PetLowCount.Mode.parse(modeText));
        String domain = p.text("domain");
        PetLowCount.Osem osem = null;
        if (domain == null || domain.equalsIgnoreCase("image")) {
            p.forbid("views", "domain=sinogram");
            p.forbid("iterations", "domain=sinogram");
            p.forbid("subsets", "domain=sinogram");
        } else if (domain.equalsIgnoreCase("sinogram")) {
            PetLowCount.Osem def = PetLowCount.Osem.defaults();
            int views = p.integer("views", def.views());
            int iterations = p.integer("iterations", def.iterations());
            int subsets = p.integer("subsets", def.subsets());
            osem = p.wrap(() -> new PetLowCount.Osem(views, iterations, subsets));
        } else {
            throw p.error("domain '" + domain + "' is not image or sinogram");
        }
        PetLowCount.Osem o = osem;
        return p.wrap(() -> new PetLowCount(fraction, counts, mode, o));
    }

    /** Parameter access that records which keys were read. */
    private static final class Params {
        private final String task;
        private final Map<String, String> values;
        private final Set<String> used = new TreeSet<>();
        private final Set<String> known = new TreeSet<>();

        Params(String task, Map<String, String> values) {
            this.task = task;
            this.values = values;
        }

        IllegalArgumentException error(String problem) {
            return new IllegalArgumentException(task + ": " + problem);
        }

        String text(String key) {
            known.add(key);
            String v = values.get(key);
            if (v != null) {
                used.add(key);
                v = v.trim();
            }
            return v;
        }

        /** A number, or "a/b"; {@code def} null means required. */
        double number(String key, Double def) {
            String v = text(key);
            if (v == null) {
                if (def == null) {
                    throw error("parameter " + key + " is required");
                }
                return def;
            }
            try {
                int slash = v.indexOf('/');
                double x = slash < 0 ? Double.parseDouble(v)
                        : Double.parseDouble(v.substring(0, slash)) / Double.parseDouble(v.substring(slash + 1));
                if (!Double.isFinite(x)) {
                    throw error(key + " '" + v + "' is not a finite number");
                }
                return x;
            } catch (NumberFormatException e) {
                throw error(key + " '" + v + "' is not a number");
            }
        }

        int integer(String key, int def) {
            String v = text(key);
            if (v == null) {
                return def;
            }
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw error(key + " '" + v + "' is not an integer");
            }
        }

        void ifNumber(String key, java.util.function.DoubleConsumer set) {
            if (values.containsKey(key)) {
                set.accept(number(key, null));
            } else {
                known.add(key);
            }
        }

        void ifInteger(String key, java.util.function.IntConsumer set) {
            if (values.containsKey(key)) {
                set.accept(integer(key, 0));
            } else {
                known.add(key);
            }
        }

        void forbid(String key, String needs) {
            known.add(key);
            if (values.containsKey(key)) {
                throw error("parameter " + key + " needs " + needs);
            }
        }

        /** Runs a constructor, prefixing its validation message with the task. */
        <T> T wrap(java.util.function.Supplier<T> make) {
            try {
                return make.get();
            } catch (IllegalArgumentException e) {
                throw error(e.getMessage());
            }
        }

        void rejectUnused() {
            for (String key : values.keySet()) {
                if (!used.contains(key)) {
                    throw error("unknown parameter '" + key + "' (" + String.join(", ", known) + ")");
                }
            }
        }
    }
}
