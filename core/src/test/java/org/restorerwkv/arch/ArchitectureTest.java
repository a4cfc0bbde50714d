package org.restorerwkv.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layering the module layout promises, checked on core's compiled classes: no cycle between
 * its packages, and nothing of a front end (command line, progress bars, plots, a logging binding)
 * inside the library.
 */
class ArchitectureTest {

    private static JavaClasses core;

    @BeforeAll
    static void importCore() {
        core = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("org.restorerwkv");
    }

    @Test
    void corePackagesHaveNoCycles() {
        slices().matching("org.restorerwkv.(*)..").should().beFreeOfCycles().check(core);
    }

    @Test
    void coreDependsOnNoFrontEnd() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage(
                "org.restorerwkv.cli..", "org.restorerwkv.pacs..", "org.restorerwkv.spark..",
                "picocli..", "me.tongfei..", "org.knowm..", "org.slf4j.nop..", "org.slf4j.simple..",
                "ch.qos.logback..", "org.apache.logging.slf4j..")
                .because("core is the library: command-line, progress-bar, plotting and logging-binding "
                        + "dependencies belong to the front ends")
                .check(core);
    }

    @Test
    void theApiIsTheOnlyPackageThatNamesEveryLayer() {
        // the layers below the API never reach up to it
        noClasses().that().resideOutsideOfPackage("org.restorerwkv.api..").should().dependOnClassesThat()
                .resideInAPackage("org.restorerwkv.api..").check(core);
    }
}
