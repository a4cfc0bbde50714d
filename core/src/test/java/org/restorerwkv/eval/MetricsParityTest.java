package org.restorerwkv.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.Npy;

/** Parity with the reference evaluation (parity/metrics/expected.json, make_metric_golden.py). */
class MetricsParityTest {

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(MetricsParityTest.class.getResource("/parity/metrics/" + name).toURI());
    }

    @Test
    void matchesTheReferenceOnEveryCase() throws IOException, URISyntaxException {
        JsonArray cases = JsonParser.parseString(
                Files.readString(resource("expected.json"), StandardCharsets.UTF_8)).getAsJsonArray();
        assertEquals(3, cases.size());
        boolean sawNonSquare = false;
        for (JsonElement el : cases) {
            JsonObject c = el.getAsJsonObject();
            String name = c.get("name").getAsString();
            Modality m = Modality.parse(name);
            JsonArray window = c.getAsJsonArray("window");
            assertEquals(window.get(0).getAsDouble(), m.windowLow(), name);
            assertEquals(window.get(1).getAsDouble(), m.windowHigh(), name);

            HostTensor hq = Npy.read(resource(name + "_hq.npy"));
            HostTensor pred = Npy.read(resource(name + "_pred.npy"));
            assertEquals(2, hq.rank(), name);
            int h = (int) hq.shape()[0];
            int w = (int) hq.shape()[1];
            sawNonSquare |= h != w;

            double dataRange = c.get("data_range").getAsDouble();
            assertEquals(dataRange, Evaluation.dataRange(m, hq.data()), 1e-6 * dataRange, name + " data_range");

            SliceMetrics s = Evaluation.evaluate(m, pred.data(), hq.data(), h, w);
            double psnr = c.get("psnr").getAsDouble();
            double rmse = c.get("rmse").getAsDouble();
            assertEquals(psnr, s.psnr(), 1e-7 * Math.abs(psnr), name + " PSNR"); // the tolerances docs/training.md states
            assertEquals(rmse, s.rmse(), 1e-7 * rmse, name + " RMSE");
            assertEquals(c.get("ssim").getAsDouble(), s.ssim(), 3e-6, name + " SSIM");

            // the tensor overload reads the same slice
            assertEquals(s, Evaluation.evaluate(m, pred, hq));
        }
        assertEquals(true, sawNonSquare, "the MRI case is 48x80");
    }
}
