package org.restorerwkv.pacs;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * What a STOW-RS response (PS3.18 10.5.3) says: the SOP instances stored (ReferencedSOPSequence)
 * and those that failed with their FailureReason (FailedSOPSequence).
 *
 * @param stored SOPInstanceUIDs the server stored
 * @param failed SOPInstanceUID to failure reason code (0 when none given)
 */
public record StowResult(Set<String> stored, Map<String, Integer> failed) {

    static StowResult parse(byte[] body, int status, String what) throws PacsException {
        Set<String> stored = new LinkedHashSet<>();
        Map<String, Integer> failed = new LinkedHashMap<>();
        if (body == null || body.length == 0) {
            throw new PacsException(what + ": HTTP " + status + " without the STOW-RS response body", status);
        }
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(new String(body, StandardCharsets.UTF_8));
            if (e.isJsonArray() && e.getAsJsonArray().size() == 1) {
                e = e.getAsJsonArray().get(0);
            }
            if (!e.isJsonObject()) {
                throw new PacsException(what + ": the STOW-RS response is not a DICOM JSON object", status);
            }
            o = e.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new PacsException(what + ": the STOW-RS response is not valid DICOM JSON", status);
        }
        for (JsonElement item : DicomJson.sequence(o, "00081199")) {
            if (item.isJsonObject()) {
                String uid = DicomJson.string(item.getAsJsonObject(), "00081155");
                if (uid != null) {
                    stored.add(uid);
                }
            }
        }
        for (JsonElement item : DicomJson.sequence(o, "00081198")) {
            if (item.isJsonObject()) {
                String uid = DicomJson.string(item.getAsJsonObject(), "00081155");
                Integer reason = DicomJson.integer(item.getAsJsonObject(), "00081197");
                if (uid != null) {
                    failed.put(uid, reason == null ? 0 : reason);
                }
            }
        }
        return new StowResult(stored, failed);
    }
}
