/**
 * The library's entry point: {@link org.restorerwkv.api.RestorationModel} loads a trained
 * Restore-RWKV (a built-in model or a weights file, with the configuration and intensity scaling
 * stored in it) and restores volumes or single slices in physical units (CT in HU, PET in SUV, MRI
 * in scanner units), from any number of threads.
 *
 * <pre>{@code
 * try (RestorationModel model = RestorationModel.load("builtin:mri-sr-light")) {
 *     Volume scan = VolumeFormats.read(Path.of("t1.nii.gz"));
 *     Volume restored = model.restore(scan, Modality.MRI);
 *     VolumeFormats.write(Path.of("t1_restored.nii.gz"), restored);
 * }
 * }</pre>
 */
package org.restorerwkv.api;
