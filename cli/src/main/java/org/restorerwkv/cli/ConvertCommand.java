package org.restorerwkv.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.restorerwkv.checkpoint.Weights;
import org.restorerwkv.domain.IntensityScaling;
import org.restorerwkv.io.HostTensor;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.io.dicom.Derivation;
import org.restorerwkv.model.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Converts scans between image formats, or weights between .pth and .safetensors. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert scans between NIfTI (.nii, .nii.gz), DICOM (file or series directory), NPY/NPZ, PNG and TIFF",
            "(InVesalius .inv3 projects as input only),",
            "or model weights between PyTorch .pth and .safetensors (same key names). OUT's extension picks the format."})
public final class ConvertCommand implements Callable<Integer> {

    @Option(names = "--input", required = true, paramLabel = "IN", description = "Input file (weights: also builtin:NAME).")
    String inputArg;

    @Option(names = "--output", required = true, paramLabel = "OUT", description = "Output file; its extension picks the format.")
    Path output;

    @Mixin
    DicomOutputOptions dicom;

    @Option(names = "--allow-nonfinite", description = "Write NaN and infinite voxel values (refused by default: most tools cannot use them).")
    boolean allowNonFinite;

    @picocli.CommandLine.Mixin
    ReadLimitOptions readLimits;

    @Override
    public Integer call() throws Exception {
        Path input = Weights.resolve(inputArg);
        if (!Files.exists(input)) {
            throw new InvalidInputException(input, "no such file");
        }
        if (!Files.isReadable(input)) {
            throw new InvalidInputException(input, "cannot read (permission denied)");
        }
        if (Files.exists(output) && Files.isSameFile(input, output)) {
            throw new InvalidInputException(output, "the output would overwrite the input");
        }
        if (!isWeights(output)) {
            VolumeFormats.convert(input, output, readLimits.limits(), allowNonFinite, dicom.apply(Derivation.converted()));
            System.err.printf(Locale.ROOT, "wrote %s%n", output);
            return 0;
        }
        org.restorerwkv.io.AtomicFiles.checkWritableFile(output);
        // a training checkpoint's optimizer state stays behind: the output is a plain state_dict that
        // PyTorch's load_state_dict accepts
        LinkedHashMap<String, HostTensor> state = Weights.readModelState(input);
        ModelConfig config = Weights.configOf(input, state);
        IntensityScaling scaling = Weights.scalingOf(input);
        if (scaling != IntensityScaling.FIXED && !output.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors")) {
            System.err.printf(Locale.ROOT, "note: %s keeps no metadata: the model's intensity scaling %s is lost and it loads as "
                    + "'fixed' (convert to .safetensors to keep it)%n", output, scaling.id());
        }
        Weights.write(output, state, config, scaling);
        System.err.printf(Locale.ROOT, "wrote %s: %d tensors (%s)%n", output, state.size(), config);
        return 0;
    }

    static boolean isWeights(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".pth") || n.endsWith(".pt") || n.endsWith(".safetensors");
    }
}
