package org.restorerwkv.model;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.annotations.SerializedName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.restorerwkv.io.InvalidInputException;

/**
 * Hyper-parameters of a Restore-RWKV network. JSON field names are those of the reference
 * constructor ({@code inp_channels, out_channels, dim, num_blocks, num_refinement_blocks}), so a
 * {@code meta.json} "config" object from the parity data loads unchanged; beside them
 * {@code recurrence} (1: Bi-WKV, one row-major scan; 2 and more: Re-WKV, row and column scans in
 * turn), {@code hidden_rate} and {@code token_shift} ({@link TokenShift}: omni, quad, uni, none) select
 * the paper's ablation variants. A field the reader does not know is an error, never ignored.
 */
public record ModelConfig(
        @SerializedName("inp_channels") int inpChannels,
        @SerializedName("out_channels") int outChannels,
        int dim,
        @SerializedName("num_blocks") int[] numBlocks,
        @SerializedName("num_refinement_blocks") int numRefinementBlocks,
        int recurrence,
        @SerializedName("hidden_rate") int hiddenRate,
        @SerializedName("token_shift") TokenShift tokenShift) {

    /** The paper's model: 28,371,137 parameters in training form. */
    public static final ModelConfig DEFAULT = new ModelConfig(1, 1, 48, new int[] {4, 6, 6, 8}, 4, 2, 4);
    /** The ~1.2 M variant: 1,202,969 parameters in training form. */
    public static final ModelConfig LIGHT = new ModelConfig(1, 1, 16, new int[] {1, 1, 2, 2}, 1, 2, 4);

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    /** Every field a config may hold; any other is refused. */
    private static final java.util.List<String> FIELDS = java.util.List.of("inp_channels", "out_channels", "dim",
            "num_blocks", "num_refinement_blocks", "recurrence", "hidden_rate", "token_shift");

    /** A config with the reference's Omni-Shift. */
    public ModelConfig(int inpChannels, int outChannels, int dim, int[] numBlocks, int numRefinementBlocks,
                       int recurrence, int hiddenRate) {
        this(inpChannels, outChannels, dim, numBlocks, numRefinementBlocks, recurrence, hiddenRate, TokenShift.OMNI);
    }

    public ModelConfig {
        numBlocks = numBlocks.clone();
        if (tokenShift == null) {
            throw new IllegalArgumentException("token_shift must be given");
        }
        if (inpChannels < 1 || outChannels < 1) {
            throw new IllegalArgumentException("inp_channels and out_channels must be >= 1");
        }
        if (dim < 2 || dim % 2 != 0) {
            // down-sampling halves the channels before PixelUnshuffle: dim must be even
            throw new IllegalArgumentException("dim must be an even number >= 2, got " + dim);
        }
        if (numBlocks.length != 4 || Arrays.stream(numBlocks).anyMatch(n -> n < 0)) {
            throw new IllegalArgumentException("num_blocks must be 4 non-negative counts, got " + Arrays.toString(numBlocks));
        }
        if (numRefinementBlocks < 0 || recurrence < 1 || hiddenRate < 1) {
            throw new IllegalArgumentException("num_refinement_blocks >= 0, recurrence >= 1, hidden_rate >= 1 required");
        }
    }

    @Override
    public int[] numBlocks() {
        return numBlocks.clone();
    }

    public ModelConfig withChannels(int in, int out) {
        return new ModelConfig(in, out, dim, numBlocks, numRefinementBlocks, recurrence, hiddenRate, tokenShift);
    }

    /** This config with another token shift and recurrence (the ablation variants). */
    public ModelConfig withVariant(TokenShift shift, int recurrences) {
        return new ModelConfig(inpChannels, outChannels, dim, numBlocks, numRefinementBlocks, recurrences, hiddenRate, shift);
    }

    /** A named configuration ({@code default}, {@code light}) or a JSON file. */
    public static ModelConfig resolve(String nameOrFile) throws IOException {
        switch (nameOrFile.toLowerCase(Locale.ROOT)) {
            case "default":
                return DEFAULT;
            case "light":
                return LIGHT;
            default:
                return fromJson(Path.of(nameOrFile));
        }
    }

    /**
     * Reads a config from JSON: either the config object itself or an object holding it under
     * "config" (as in the parity {@code meta.json}). Missing recurrence/hidden_rate take 2 and 4.
     */
    public static ModelConfig fromJson(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file, "no such config file (named configs: default, light)");
        }
        try {
            return fromJson(text);
        } catch (JsonParseException | IllegalStateException | IllegalArgumentException | NullPointerException e) {
            throw new InvalidInputException(file, "not a valid model config: " + e.getMessage());
        }
    }

    /**
     * Parses a config object (or an object holding it under "config"). Missing recurrence,
     * hidden_rate and token_shift take 2, 4 and omni.
     *
     * @throws IllegalArgumentException naming an unknown field, a missing one or a bad value
     */
    public static ModelConfig fromJson(String json) {
        JsonElement root = JsonParser.parseString(json);
        if (!root.isJsonObject()) {
            throw new IllegalArgumentException("a config must be a JSON object");
        }
        JsonObject o = root.getAsJsonObject();
        if (o.has("config") && o.get("config").isJsonObject()) {
            o = o.getAsJsonObject("config");
        }
        for (String key : o.keySet()) {
            if (!FIELDS.contains(key)) {
                throw new IllegalArgumentException("unknown field \"" + key + "\" (a config holds " + String.join(", ", FIELDS) + ")");
            }
        }
        for (String key : new String[] {"inp_channels", "out_channels", "dim", "num_blocks", "num_refinement_blocks"}) {
            if (!o.has(key)) {
                throw new IllegalArgumentException("missing \"" + key + "\"");
            }
        }
        JsonElement nb = o.get("num_blocks");
        if (!nb.isJsonArray()) {
            throw new IllegalArgumentException("\"num_blocks\" must be an array of 4 integers");
        }
        int[] blocks = new int[nb.getAsJsonArray().size()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = integer("num_blocks", nb.getAsJsonArray().get(i));
        }
        JsonElement shift = o.get("token_shift");
        if (shift != null && !(shift.isJsonPrimitive() && shift.getAsJsonPrimitive().isString())) {
            throw new IllegalArgumentException("\"token_shift\" must be a string (omni, quad, uni, none)");
        }
        return new ModelConfig(
                integer(o, "inp_channels", 0),
                integer(o, "out_channels", 0),
                integer(o, "dim", 0),
                blocks,
                integer(o, "num_refinement_blocks", 0),
                integer(o, "recurrence", 2),
                integer(o, "hidden_rate", 4),
                shift == null ? TokenShift.OMNI : TokenShift.parse(shift.getAsString()));
    }

    private static int integer(JsonObject o, String key, int absent) {
        return o.has(key) ? integer(key, o.get(key)) : absent;
    }

    /** A JSON integer; 2.5 or "2" is refused rather than truncated or converted. */
    private static int integer(String key, JsonElement e) {
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            try {
                return new java.math.BigDecimal(e.getAsString()).intValueExact();
            } catch (ArithmeticException | NumberFormatException ignored) {
                // falls through to the message below
            }
        }
        throw new IllegalArgumentException("\"" + key + "\" must be an integer, got " + e);
    }

    /**
     * Reads the configuration off a state dict's shapes (dim from patch_embed, block counts from the
     * stage indices, recurrence from spatial_decay, hidden rate from the FFN key), so a checkpoint
     * needs no separate config file.
     *
     * @throws IllegalArgumentException when the keys do not describe a Restore-RWKV network
     */
    public static ModelConfig inferFrom(java.util.Map<String, long[]> shapes) {
        long[] embed = shapes.get("patch_embed.weight");
        long[] out = shapes.get("output.weight");
        if (embed == null || embed.length != 4 || out == null || out.length != 4) {
            throw new IllegalArgumentException("not a Restore-RWKV state dict (no patch_embed.weight/output.weight)");
        }
        int dim = (int) embed[0];
        int[] blocks = new int[4];
        String[] stages = {"encoder_level1", "encoder_level2", "encoder_level3", "latent"};
        for (int i = 0; i < 4; i++) {
            blocks[i] = countBlocks(shapes, stages[i]);
        }
        int refinement = countBlocks(shapes, "refinement");
        int recurrence = 2;
        int hidden = 4;
        // the shift's parameter names tell it: omni_shift.*, spatial_mix_* (Quad), time_mix_* (Uni), none
        TokenShift shift = TokenShift.NONE;
        boolean anyBlock = false;
        for (java.util.Map.Entry<String, long[]> e : shapes.entrySet()) {
            String k = e.getKey();
            if (k.endsWith(".att.spatial_decay")) {
                recurrence = (int) e.getValue()[0];
                anyBlock = true;
            }
            if (k.endsWith(".att.omni_shift.alpha")) {
                shift = TokenShift.OMNI;
            } else if (k.endsWith(".att.spatial_mix_k")) {
                shift = TokenShift.QUAD;
            } else if (k.endsWith(".att.time_mix_k")) {
                shift = TokenShift.UNI;
            }
            if (e.getKey().endsWith(".ffn.key.weight")) {
                hidden = (int) (e.getValue()[0] / e.getValue()[1]);
            }
        }
        return new ModelConfig((int) embed[1], (int) out[0], dim, blocks, refinement, recurrence, hidden,
                anyBlock ? shift : TokenShift.OMNI);
    }

    private static int countBlocks(java.util.Map<String, long[]> shapes, String stage) {
        int n = 0;
        while (shapes.containsKey(stage + "." + n + ".gamma1")) {
            n++;
        }
        return n;
    }

    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("inp_channels", inpChannels);
        o.addProperty("out_channels", outChannels);
        o.addProperty("dim", dim);
        com.google.gson.JsonArray nb = new com.google.gson.JsonArray();
        for (int n : numBlocks) {
            nb.add(n);
        }
        o.add("num_blocks", nb);
        o.addProperty("num_refinement_blocks", numRefinementBlocks);
        o.addProperty("recurrence", recurrence);
        o.addProperty("hidden_rate", hiddenRate);
        o.addProperty("token_shift", tokenShift.id());
        return GSON.toJson(o);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelConfig c
                && inpChannels == c.inpChannels
                && outChannels == c.outChannels
                && dim == c.dim
                && Arrays.equals(numBlocks, c.numBlocks)
                && numRefinementBlocks == c.numRefinementBlocks
                && recurrence == c.recurrence
                && hiddenRate == c.hiddenRate
                && tokenShift == c.tokenShift;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new int[] {inpChannels, outChannels, dim, Arrays.hashCode(numBlocks),
            numRefinementBlocks, recurrence, hiddenRate, tokenShift.ordinal()});
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "inp_channels=%d out_channels=%d dim=%d num_blocks=%s num_refinement_blocks=%d recurrence=%d hidden_rate=%d"
                        + " token_shift=%s",
                inpChannels, outChannels, dim, Arrays.toString(numBlocks), numRefinementBlocks, recurrence, hiddenRate,
                tokenShift.id());
    }
}
