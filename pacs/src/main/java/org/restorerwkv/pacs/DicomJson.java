package org.restorerwkv.pacs;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/** Values out of the DICOM JSON model (PS3.18 F.2): {"0020000E": {"vr": "UI", "Value": ["1.2"]}}. */
final class DicomJson {

    private DicomJson() {}

    private static JsonElement first(JsonObject o, String tag) {
        JsonElement e = o.get(tag);
        if (e == null || !e.isJsonObject()) {
            return null;
        }
        JsonElement v = e.getAsJsonObject().get("Value");
        if (v == null || !v.isJsonArray() || v.getAsJsonArray().isEmpty()) {
            return null;
        }
        JsonElement x = v.getAsJsonArray().get(0);
        return x.isJsonNull() ? null : x;
    }

    static String string(JsonObject o, String tag) {
        JsonElement x = first(o, tag);
        return x != null && x.isJsonPrimitive() ? x.getAsString() : null;
    }

    static Integer integer(JsonObject o, String tag) {
        JsonElement x = first(o, tag);
        if (x == null || !x.isJsonPrimitive()) {
            return null;
        }
        try {
            return (int) Math.round(Double.parseDouble(x.getAsString().trim()));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** A PN value's alphabetic form. */
    static String personName(JsonObject o, String tag) {
        JsonElement x = first(o, tag);
        if (x != null && x.isJsonObject() && x.getAsJsonObject().has("Alphabetic")) {
            return x.getAsJsonObject().get("Alphabetic").getAsString();
        }
        return x != null && x.isJsonPrimitive() ? x.getAsString() : null;
    }

    /** The items of a sequence, or an empty array. */
    static JsonArray sequence(JsonObject o, String tag) {
        JsonElement e = o.get(tag);
        if (e == null || !e.isJsonObject()) {
            return new JsonArray();
        }
        JsonElement v = e.getAsJsonObject().get("Value");
        return v != null && v.isJsonArray() ? v.getAsJsonArray() : new JsonArray();
    }
}
