package org.restorerwkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.restorerwkv.infer.Restorer;

class RestoreOptionsTest {

    @Test
    void memorySizesReadWithBinaryUnits() {
        assertEquals(4L << 30, ModelOptions.parseBytes("--max-memory", "4g"));
        assertEquals(512L << 20, ModelOptions.parseBytes("--max-memory", "512M"));
        assertEquals(800L << 10, ModelOptions.parseBytes("--max-memory", "800k"));
        assertEquals(3L << 29, ModelOptions.parseBytes("--max-memory", "1.5g"));
        assertEquals(1000, ModelOptions.parseBytes("--max-memory", "1000"));
        for (String bad : new String[] {"0", "-1g", "g", "lots", "", "1e30t"}) {
            assertThrows(IllegalArgumentException.class, () -> ModelOptions.parseBytes("--max-memory", bad), bad);
        }
    }

    @Test
    void tileIsAutoZeroOrPixels() {
        assertEquals(Restorer.AUTO, RestoreCommand.parseTile("auto"));
        assertEquals(Restorer.AUTO, RestoreCommand.parseTile("AUTO"));
        assertEquals(0, RestoreCommand.parseTile("0"));
        assertEquals(256, RestoreCommand.parseTile("256"));
        assertThrows(IllegalArgumentException.class, () -> RestoreCommand.parseTile("big"));
    }
}
