package org.restorerwkv.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.restorerwkv.domain.Modality;
import org.restorerwkv.io.InvalidInputException;
import org.restorerwkv.model.ModelConfig;
import org.restorerwkv.model.RestoreRwkv;

/** builtin:NAME: found on the class path (folder or jar), listed, refused when unknown, and the default. */
class BuiltinModelsTest {

    @TempDir Path dir;

    /** The test-only model on the test class path (src/test/resources/org/restorerwkv/models). */
    private static final String TINY = "test-tiny";

    @Test
    void aBuiltinOnTheClassPathResolvesAndLoadsWithItsCard() throws Exception {
        BuiltinModels b = BuiltinModels.bundled();
        assertTrue(b.names().contains(TINY), b.names().toString());
        Path file = Weights.resolve("builtin:" + TINY);
        assertTrue(Files.isRegularFile(file), file.toString());
        ModelCard card = b.card(TINY);
        assertEquals(List.of(Modality.CT, Modality.MRI, Modality.PET), card.modalities());
        try (NDManager m = NDManager.newBaseManager()) {
            RestoreRwkv net = Weights.loadModel("builtin:" + TINY, null, m);
            assertEquals(card.config(), net.config());
        }
        assertTrue(String.join("\n", card.summary()).contains("licence: no data went into these weights"));
        // a plain argument stays a path
        assertEquals(Path.of("some/weights.pth"), Weights.resolve("some/weights.pth"));
    }

    @Test
    void everyBundledModelsCardMatchesItsWeights() throws Exception {
        // guards the drop-in of trained models: the card's config must be the one the weights hold
        for (String name : BuiltinModels.bundled().names()) {
            ModelCard card = BuiltinModels.bundled().card(name);
            Path file = BuiltinModels.bundled().weights(name);
            ModelConfig stored = Weights.configOf(file, Weights.read(file));
            assertEquals(card.config(), stored, name);
            try (NDManager m = NDManager.newBaseManager()) {
                Weights.loadModel(file, null, m); // every key fits
            }
        }
    }

    @Test
    void anUnknownNameIsOneLineListingTheBundledOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Weights.resolve("builtin:no-such-model"));
        assertTrue(e.getMessage().startsWith("unknown built-in model 'no-such-model' (bundled: "), e.getMessage());
        assertTrue(e.getMessage().contains(TINY), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertThrows(IllegalArgumentException.class, () -> Weights.resolve("builtin:../models/" + TINY));
        assertThrows(IllegalArgumentException.class, () -> Weights.resolve("builtin:"));
    }

    @Test
    void theDefaultIsTheAllInOneLightModelWhenBundledElseAClearError() throws Exception {
        try (URLClassLoader empty = new URLClassLoader(new URL[] {Files.createDirectory(dir.resolve("empty")).toUri().toURL()}, null)) {
            BuiltinModels none = new BuiltinModels(empty);
            assertEquals(List.of(), none.names());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, none::defaultSpec);
            assertTrue(e.getMessage().startsWith("no --weights given and no built-in model is bundled"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> none.resolve("builtin:x"));
            assertTrue(e.getMessage().contains("(bundled: none)"), e.getMessage());
        }
        // the same two files in a class path folder, and inside a jar
        Path root = dir.resolve("classes");
        Path models = Files.createDirectories(root.resolve(BuiltinModels.RESOURCE_DIR));
        byte[] weights = Files.readAllBytes(BuiltinModels.bundled().weights(TINY));
        String card = Files.readString(testCard()).replace("\"" + TINY + "\"", "\"" + BuiltinModels.DEFAULT + "\"");
        Files.write(models.resolve(BuiltinModels.DEFAULT + ".safetensors"), weights);
        Files.writeString(models.resolve(BuiltinModels.DEFAULT + ".json"), card);
        Path jar = dir.resolve("models.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            String path = "";
            for (String part : BuiltinModels.RESOURCE_DIR.split("/")) {
                path += part + "/";
                out.putNextEntry(new JarEntry(path)); // folder entries, as the maven jar has
                out.closeEntry();
            }
            put(out, BuiltinModels.RESOURCE_DIR + BuiltinModels.DEFAULT + ".safetensors", weights);
            put(out, BuiltinModels.RESOURCE_DIR + BuiltinModels.DEFAULT + ".json", card.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        for (Path cp : List.of(root, jar)) {
            try (URLClassLoader loader = new URLClassLoader(new URL[] {cp.toUri().toURL()}, null)) {
                BuiltinModels b = new BuiltinModels(loader);
                assertEquals(List.of(BuiltinModels.DEFAULT), b.names(), cp.toString());
                assertEquals("builtin:" + BuiltinModels.DEFAULT, b.defaultSpec());
                Path file = b.resolve(b.defaultSpec());
                if (cp.equals(jar)) {
                    assertNotEquals(jar, file); // copied out of the jar
                }
                assertEquals(Weights.read(BuiltinModels.bundled().weights(TINY)), Weights.read(file));
                assertEquals(BuiltinModels.DEFAULT, b.card(BuiltinModels.DEFAULT).name());
            }
        }
    }

    @Test
    void badCardsAreRefusedNamingTheProblem() throws Exception {
        Path card = dir.resolve("x.json");
        Files.writeString(card, "{\"name\": \"x\", \"config\": \"light\"}");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelCard.read(card));
        assertTrue(e.getMessage().contains("modalities"), e.getMessage());
        Files.writeString(card, "{\"name\": \"x\", \"config\": \"huge\", \"modalities\": [\"CT\"]}");
        e = assertThrows(InvalidInputException.class, () -> ModelCard.read(card));
        assertTrue(e.getMessage().contains("huge"), e.getMessage());
        Files.writeString(card, "{\"name\": \"x\", \"config\": \"light\", \"modalities\": [\"XR\"]}");
        assertThrows(InvalidInputException.class, () -> ModelCard.read(card));
        Files.writeString(card, "[1, 2]");
        assertThrows(InvalidInputException.class, () -> ModelCard.read(card));
        Files.writeString(card, "{\"name\": \"x\", \"config\": \"light\", \"modalities\": [\"ct\", \"pet\"],"
                + " \"data\": [{\"name\": \"LDCT\", \"licence\": \"CC BY 4.0\"}], \"training\": {\"iterations\": 100}}");
        ModelCard ok = ModelCard.read(card);
        assertEquals(ModelConfig.LIGHT, ok.config());
        assertEquals(List.of(Modality.CT, Modality.PET), ok.modalities());
        assertEquals(List.of("x: " + ModelConfig.LIGHT + ", modalities [CT, PET]", "  data: name LDCT, licence CC BY 4.0",
                "  training.iterations: 100"), ok.summary());
    }

    @Test
    void cardsDeclareTheModalitiesTheyAreTheDefaultFor() throws Exception {
        Path card = dir.resolve("x.json");
        String head = "{\"name\": \"x\", \"config\": \"light\", \"modalities\": [\"CT\", \"MRI\"], ";
        Files.writeString(card, head + "\"default_for\": [\"mri\"]}");
        ModelCard ok = ModelCard.read(card);
        assertEquals(List.of(Modality.MRI), ok.defaultFor());
        assertEquals("x: " + ModelConfig.LIGHT + ", modalities [CT, MRI], default for [MRI]", ok.summary().get(0));
        assertEquals(List.of(), ModelCard.read(testCard()).defaultFor());
        for (String bad : List.of("\"PET\"]", "\"MRI\", \"MRI\"]", "\"XR\"]")) {
            Files.writeString(card, head + "\"default_for\": [" + bad + "}");
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelCard.read(card), bad);
            assertTrue(e.getMessage().contains("bad model card"), e.getMessage());
        }
        Files.writeString(card, head + "\"default_for\": \"MRI\"}");
        assertThrows(InvalidInputException.class, () -> ModelCard.read(card));

        // the model claiming a modality is its default; the others fall back to the all-in-one model
        Path root = dir.resolve("classes");
        Path models = Files.createDirectories(root.resolve(BuiltinModels.RESOURCE_DIR));
        byte[] weights = Files.readAllBytes(BuiltinModels.bundled().weights(TINY));
        String tiny = Files.readString(testCard());
        Files.write(models.resolve(BuiltinModels.DEFAULT + ".safetensors"), weights);
        Files.writeString(models.resolve(BuiltinModels.DEFAULT + ".json"),
                tiny.replace("\"" + TINY + "\"", "\"" + BuiltinModels.DEFAULT + "\""));
        Files.write(models.resolve("mri-only.safetensors"), weights);
        Files.writeString(models.resolve("mri-only.json"), tiny.replace("\"" + TINY + "\"", "\"mri-only\"")
                .replace("\"modalities\"", "\"default_for\": [\"MRI\"], \"modalities\""));
        try (URLClassLoader loader = new URLClassLoader(new URL[] {root.toUri().toURL()}, null)) {
            BuiltinModels b = new BuiltinModels(loader);
            assertEquals("builtin:mri-only", b.defaultSpec(Modality.MRI));
            assertEquals("builtin:" + BuiltinModels.DEFAULT, b.defaultSpec(Modality.CT));
            assertEquals("builtin:" + BuiltinModels.DEFAULT, b.defaultSpec(Modality.NONE));
        }
        // two models claiming one modality is a build error, named
        Files.write(models.resolve("mri-two.safetensors"), weights);
        Files.writeString(models.resolve("mri-two.json"), tiny.replace("\"" + TINY + "\"", "\"mri-two\"")
                .replace("\"modalities\"", "\"default_for\": [\"MRI\"], \"modalities\""));
        try (URLClassLoader loader = new URLClassLoader(new URL[] {root.toUri().toURL()}, null)) {
            BuiltinModels b = new BuiltinModels(loader);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.defaultSpec(Modality.MRI));
            assertTrue(e.getMessage().contains("mri-only and mri-two"), e.getMessage());
            assertEquals("builtin:" + BuiltinModels.DEFAULT, b.defaultSpec(Modality.PET));
        }
    }

    @Test
    void theBundledDefaultsAreTheBestModelPerModality() throws Exception {
        // each trained modality has exactly one default among the bundled cards (no two claims)
        BuiltinModels b = BuiltinModels.bundled();
        for (Modality m : List.of(Modality.CT, Modality.MRI, Modality.PET)) {
            String spec = b.defaultSpec(m);
            assertTrue(b.card(spec.substring(BuiltinModels.PREFIX.length())).modalities().contains(m), m + ": " + spec);
        }
        if (b.has("mri-sr-synth-light")) {
            assertEquals("builtin:mri-sr-synth-light", org.restorerwkv.api.RestorationModel.defaultWeights(Modality.MRI));
        }
    }

    private static Path testCard() throws Exception {
        return Path.of(BuiltinModelsTest.class.getClassLoader().getResource(BuiltinModels.RESOURCE_DIR + TINY + ".json").toURI());
    }

    private static void put(JarOutputStream out, String name, byte[] bytes) throws Exception {
        out.putNextEntry(new JarEntry(name));
        OutputStream o = out;
        o.write(bytes);
        out.closeEntry();
    }
}
