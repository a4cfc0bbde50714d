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
        // PthReader names the legacy torch format, and reports anything else as not a checkpoint
        return isSafetensors(file) ? Safetensors.read(file) : PthReader.read(file);
    }

    /** True when the file starts like safetensors (8-byte header length, then '{'). */
    public static boolean isSafetensors(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file, "no such checkpoint file");
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(9);
        }
        return head.length == 9 && head[8] == '{' && !(head[0] == 'P' && head[1] == 'K');
    }

    /** Writes safetensors when the name ends in ".safetensors", otherwise a torch.save zip. */
    public static void write(Path file, Map<String, HostTensor> stateDict) throws IOException {
        write(file, stateDict, Map.of());
    }

    /** As {@link #write(Path, Map)}; the metadata go into the safetensors header (a .pth has none). */
    public static void write(Path file, Map<String, HostTensor> stateDict, Map<String, String> metadata) throws IOException {
        if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors")) {
            Map<String, String> meta = new java.util.LinkedHashMap<>(metadata);
            meta.putIfAbsent("format", "pt");
            Safetensors.write(file, stateDict, meta);
        } else {
            PthWriter.write(file, stateDict);
        }
    }
}
