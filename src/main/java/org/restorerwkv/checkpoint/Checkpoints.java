package org.restorerwkv.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;

/** Reads or writes a state dict in whichever of the two formats a file is in (or is named for). */
public final class Checkpoints {

    private Checkpoints() {}

    /**
     * Reads a PyTorch zip checkpoint or a safetensors file, told apart by their first bytes (a zip
     * starts "PK", a safetensors header length is followed by '{'), not by the file name.
     */
    public static LinkedHashMap<String, HostTensor> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file, "no such checkpoint file");
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(9);
        }
        if (head.length >= 2 && head[0] == 'P' && head[1] == 'K') {
            return PthReader.read(file);
        }
        if (head.length == 9 && head[8] == '{') {
            return Safetensors.read(file);
        }
        // PthReader names the legacy torch format, and reports anything else as not a checkpoint
        return PthReader.read(file);
    }

    /** Writes safetensors when the name ends in ".safetensors", otherwise a torch.save zip. */
    public static void write(Path file, Map<String, HostTensor> stateDict) throws IOException {
        if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors")) {
            Safetensors.write(file, stateDict, Map.of("format", "pt"));
        } else {
            PthWriter.write(file, stateDict);
        }
    }
}
