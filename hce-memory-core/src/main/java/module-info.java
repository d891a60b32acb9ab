/**
 * Native (off-heap) memory allocation on the Foreign Function &amp; Memory API.
 *
 * <p>The public API is the package {@link io.hce.memory}; everything under {@code io.hce.memory.internal}
 * is implementation and not exported. The module calls restricted methods (downcalls to the C
 * allocator), so a JVM that runs it should grant native access:
 * {@code --enable-native-access=io.hce.memory} on the module path, {@code ALL-UNNAMED} on the class path.
 * Its JDK Flight Recorder events ({@code io.hce.memory.*}) need the {@code jdk.jfr} module.
 */
module io.hce.memory {
    requires jdk.jfr;
    requires static com.google.errorprone.annotations; // @GuardedBy, for Error Prone at compile time

    exports io.hce.memory;
}
