/**
 * Degradation simulators: from one full-quality slice, the low-quality input of a training pair.
 *
 * <p>All work on 2-D slices, {@code float[height * width]}, row-major, in physical units: CT in
 * Hounsfield units, MRI in scanner intensity, PET in SUV. Each simulator is an immutable
 * {@link org.restorerwkv.degrade.Degradation}; a call depends only on the slice and a seed, so
 * slices may be processed in parallel, in any order, with identical results (derive each slice's
 * seed with {@link org.restorerwkv.degrade.Seeds#forSlice}).
 *
 * <ul>
 *   <li>{@link org.restorerwkv.degrade.CtLowDose} ({@code ct-lowdose}): photon-counting
 *       simulation through a ray-driven projector ({@link org.restorerwkv.degrade.Projector},
 *       parallel or fan beam) and filtered back-projection.
 *   <li>{@link org.restorerwkv.degrade.MriKspace} ({@code mri-sr}): k-space truncation to the
 *       central 1/scale per axis, zero-filled, magnitude.
 *   <li>{@link org.restorerwkv.degrade.PetLowCount} ({@code pet-lowcount}): Poisson thinning of
 *       the counts, per pixel or per sinogram bin with OSEM.
 * </ul>
 *
 * <p>Real full-quality scans already carry noise; CT and PET therefore default to inserting only
 * the noise they lack to match the lower dose or count level. {@link
 * org.restorerwkv.degrade.Degradations#parse} builds any of them from a task name and
 * {@code key=value} parameters. FFTs use JTransforms, restricted to the calling thread.
 */
package org.restorerwkv.degrade;
