package io.hce.memory;

/**
 * The argument checks every allocator shares, with messages that name the argument and its value.
 */
final class Arguments {

    private Arguments() {
    }

    /**
     * @throws IllegalArgumentException if {@code byteSize} is negative
     */
    static void checkSize(long byteSize) {
        if (byteSize < 0) {
            throw new IllegalArgumentException("byteSize must not be negative, was " + byteSize);
        }
    }

    /**
     * @throws IllegalArgumentException if {@code byteAlignment} is not a positive power of two
     */
    static void checkAlignment(long byteAlignment) {
        if (byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            throw new IllegalArgumentException("byteAlignment must be a power of two, was " + byteAlignment);
        }
    }
}
