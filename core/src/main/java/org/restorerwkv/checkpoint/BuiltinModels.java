package org.restorerwkv.checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.ClasspathFiles;
import org.restorerwkv.io.InvalidInputException;

/**
 * The trained models shipped inside the program: resource pairs
 * {@code org/restorerwkv/models/NAME.safetensors} (the weights) and {@code NAME.json} (the model
 * card, see {@link ModelCard}); adding a model is adding those two files. Users name one as
 * {@code builtin:NAME} wherever a weights file is accepted ({@link Weights#resolve}).
 */
public final class BuiltinModels {

    /** Prefix of a weights argument that names a built-in model. */
    public static final String PREFIX = "builtin:";

    /** Resource folder of the models. */
    public static final String RESOURCE_DIR = "org/restorerwkv/models/";

    /**
     * The model used when no weights are given and no bundled card declares itself the default for
     * the modality (see {@link #defaultSpec(Modality)}): the light all-in-one (CT, MRI, PET) model.
     */
    public static final String DEFAULT = "all-in-one-light";

    private static final String WEIGHTS = ".safetensors";
    private static final String CARD = ".json";

    private static final BuiltinModels BUNDLED = new BuiltinModels(BuiltinModels.class.getClassLoader());

    private final ClassLoader loader;

    /** The models on a class path (tests use their own loaders). */
    public BuiltinModels(ClassLoader loader) {
        this.loader = loader;
    }

    /** The models on this program's class path. */
    public static BuiltinModels bundled() {
        return BUNDLED;
    }

    /** Whether {@code spec} is a {@code builtin:NAME} reference. */
    public static boolean isBuiltin(String spec) {
        return spec != null && spec.startsWith(PREFIX);
    }

    /** Names of the models that have both their weights and their card, sorted. */
    public List<String> names() throws IOException {
        List<String> out = new ArrayList<>();
        var files = ClasspathFiles.list(loader, RESOURCE_DIR);
        for (String f : files) {
            if (f.endsWith(WEIGHTS)) {
                String name = f.substring(0, f.length() - WEIGHTS.length());
                if (files.contains(name + CARD)) {
                    out.add(name);
                }
            }
        }
        return out;
    }

    /** Whether model {@code name} is bundled (weights and card). */
    public boolean has(String name) {
        return ClasspathFiles.exists(loader, RESOURCE_DIR + name + WEIGHTS)
                && ClasspathFiles.exists(loader, RESOURCE_DIR + name + CARD);
    }

    /** The weights of model {@code name} as a readable file. */
    public Path weights(String name) throws IOException {
        require(name);
        return ClasspathFiles.file(loader, RESOURCE_DIR + name + WEIGHTS);
    }

    /** The model card of {@code name}. */
    public ModelCard card(String name) throws IOException {
        require(name);
        Path file = ClasspathFiles.file(loader, RESOURCE_DIR + name + CARD);
        ModelCard card = ModelCard.read(file);
        if (!card.name().equals(name)) {
            throw new InvalidInputException(file, "the card's name '" + card.name() + "' differs from its file name '" + name + "'");
        }
        return card;
    }

    /**
     * The weights named by {@code spec}: {@code builtin:NAME} for a bundled model, else a file path.
     *
     * @throws IllegalArgumentException for an unknown built-in name, listing the bundled ones
     */
    public Path resolve(String spec) throws IOException {
        if (!isBuiltin(spec)) {
            return Path.of(spec);
        }
        return weights(spec.substring(PREFIX.length()));
    }

    /**
     * The weights to use when none are given: {@code builtin:}{@value #DEFAULT} when bundled.
     *
     * @throws IllegalArgumentException when it is not bundled
     */
    public String defaultSpec() {
        if (!has(DEFAULT)) {
            throw new IllegalArgumentException("no --weights given and no built-in model is bundled (" + PREFIX + DEFAULT
                    + " is missing from this build): give --weights FILE or " + PREFIX + "NAME");
        }
        return PREFIX + DEFAULT;
    }

    /**
     * The weights to use for {@code modality} when none are given: {@code builtin:NAME} of the
     * bundled model whose card lists the modality in {@code default_for}, else {@link #defaultSpec()}
     * (also for {@link Modality#NONE}).
     *
     * @throws IllegalArgumentException when two bundled cards claim the modality, or when none does
     *     and the all-in-one model is not bundled
     * @throws IOException when a bundled card cannot be read
     */
    public String defaultSpec(Modality modality) throws IOException {
        String chosen = null;
        if (modality != Modality.NONE) {
            for (String name : names()) {
                if (card(name).defaultFor().contains(modality)) {
                    if (chosen != null) {
                        throw new IllegalArgumentException("built-in models " + chosen + " and " + name
                                + " both declare themselves the default for " + modality);
                    }
                    chosen = name;
                }
            }
        }
        return chosen != null ? PREFIX + chosen : defaultSpec();
    }

    private void require(String name) throws IOException {
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || !has(name)) {
            List<String> names = names();
            throw new IllegalArgumentException("unknown built-in model '" + name + "' (bundled: "
                    + (names.isEmpty() ? "none" : String.join(", ", names)) + ")");
        }
    }
}
