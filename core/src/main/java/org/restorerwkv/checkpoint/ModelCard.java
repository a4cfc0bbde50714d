package org.restorerwkv.checkpoint;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.model.ModelConfig;

/**
 * What a built-in model is and how it was made: a free-form JSON object of which only
 * {@code name}, {@code config} (a named configuration, "light" or "default", or the config object)
 * and {@code modalities} (e.g. ["CT", "MRI", "PET"]) are read, and the optional {@code default_for}
 * (the modalities, among its own, for which the model is used when no weights are named, e.g.
 * ["MRI"]; see {@link BuiltinModels#defaultSpec(Modality)}); every other field (tasks, data and
 * their licences, degradations, training command, iterations, wall time, metrics...) is shown as
 * written.
 */
public record ModelCard(String name, ModelConfig config, List<Modality> modalities, List<Modality> defaultFor,
        JsonObject json) {

    /** The card field naming the modalities a model is the default for. */
    public static final String DEFAULT_FOR = "default_for";

    /** Reads and checks a card. */
    public static ModelCard read(Path file) throws IOException {
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
            if (!e.isJsonObject()) {
                throw new InvalidInputException(file, "a model card is a JSON object");
            }
            o = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new InvalidInputException(file, "not valid JSON: " + e.getMessage());
        }
        try {
            String name = string(o, "name");
            JsonElement c = o.get("config");
            if (c == null) {
                throw new IllegalArgumentException("missing \"config\"");
            }
            ModelConfig config = c.isJsonPrimitive() ? named(c.getAsString()) : ModelConfig.fromJson(c.toString());
            JsonElement m = o.get("modalities");
            if (m == null || !m.isJsonArray() || m.getAsJsonArray().isEmpty()) {
                throw new IllegalArgumentException("\"modalities\" must be a non-empty list such as [\"CT\", \"MRI\", \"PET\"]");
            }
            List<Modality> modalities = new ArrayList<>();
            for (JsonElement x : m.getAsJsonArray()) {
                Modality mod = Modality.parse(x.getAsString());
                if (mod == Modality.NONE) {
                    throw new IllegalArgumentException("modality NONE is not a trained modality");
                }
                modalities.add(mod);
            }
            List<Modality> defaultFor = new ArrayList<>();
            JsonElement d = o.get(DEFAULT_FOR);
            if (d != null) {
                if (!d.isJsonArray()) {
                    throw new IllegalArgumentException("\"" + DEFAULT_FOR + "\" must be a list of modalities such as [\"MRI\"]");
                }
                for (JsonElement x : d.getAsJsonArray()) {
                    Modality mod = Modality.parse(x.getAsString());
                    if (!modalities.contains(mod)) {
                        throw new IllegalArgumentException("\"" + DEFAULT_FOR + "\" names " + mod
                                + ", which is not among the model's modalities " + modalities);
                    }
                    if (defaultFor.contains(mod)) {
                        throw new IllegalArgumentException("\"" + DEFAULT_FOR + "\" names " + mod + " twice");
                    }
                    defaultFor.add(mod);
                }
            }
            return new ModelCard(name, config, List.copyOf(modalities), List.copyOf(defaultFor), o);
        } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException | JsonParseException e) {
            throw new InvalidInputException(file, "bad model card: " + e.getMessage());
        }
    }

    /**
     * The card for a listing: name, config, modalities, then every other field as
     * {@code key: value} (objects one level deep as {@code key.sub: value}), in the card's order.
     */
    public List<String> summary() {
        List<String> lines = new ArrayList<>();
        lines.add(name + ": " + config + ", modalities " + modalities
                + (defaultFor.isEmpty() ? "" : ", default for " + defaultFor));
        for (Map.Entry<String, JsonElement> e : json.entrySet()) {
            String k = e.getKey();
            if (k.equals("name") || k.equals("config") || k.equals("modalities") || k.equals(DEFAULT_FOR)) {
                continue;
            }
            if (e.getValue().isJsonObject()) {
                for (Map.Entry<String, JsonElement> s : e.getValue().getAsJsonObject().entrySet()) {
                    lines.add("  " + k + "." + s.getKey() + ": " + show(s.getValue()));
                }
            } else {
                lines.add("  " + k + ": " + show(e.getValue()));
            }
        }
        return lines;
    }

    private static String show(JsonElement v) {
        if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isString()) {
            return v.getAsString();
        }
        if (v.isJsonArray()) {
            JsonArray a = v.getAsJsonArray();
            List<String> parts = new ArrayList<>();
            for (JsonElement x : a) {
                parts.add(show(x));
            }
            return a.size() > 0 && a.get(0).isJsonObject() ? String.join("; ", parts) : String.join(", ", parts);
        }
        if (v.isJsonObject()) {
            List<String> parts = new ArrayList<>();
            for (Map.Entry<String, JsonElement> s : v.getAsJsonObject().entrySet()) {
                parts.add(s.getKey() + " " + show(s.getValue()));
            }
            return String.join(", ", parts);
        }
        return v.toString();
    }

    private static String string(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonPrimitive() || e.getAsString().isBlank()) {
            throw new IllegalArgumentException("missing \"" + key + "\"");
        }
        return e.getAsString();
    }

    private static ModelConfig named(String name) {
        return switch (name) {
            case "light" -> ModelConfig.LIGHT;
            case "default" -> ModelConfig.DEFAULT;
            default -> throw new IllegalArgumentException("config '" + name + "' is not light, default or a config object");
        };
    }
}
