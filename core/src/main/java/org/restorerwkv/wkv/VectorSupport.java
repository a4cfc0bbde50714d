package org.restorerwkv.wkv;

/**
 * Whether the JDK's vector API (the incubator module {@code jdk.incubator.vector} in Java 17) is
 * there. This class names no vector type, so asking never loads one: the SIMD kernels live in
 * nested classes that are touched only when {@link #AVAILABLE} is true, and the scalar kernels run
 * otherwise (a library user who starts the JVM without {@code --add-modules jdk.incubator.vector}).
 * {@code -Drestore.rwkv.simd=false} forces the scalar kernels.
 */
final class VectorSupport {

    static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !"false".equals(System.getProperty("restore.rwkv.simd"));

    private VectorSupport() {}
}
