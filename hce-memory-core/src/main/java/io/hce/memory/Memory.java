package io.hce.memory;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.hce.memory.internal.platform.DataSizes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * The process-wide default allocator: hce's {@code hce::memory::allocate}, {@code hce::allocate<T>(count)}
 * and {@code hce::memory::deallocate}.
 *
 * <pre>{@code
 * MemorySegment buffer = Memory.allocate(256);
 * try {
 *     // ... use buffer ...
 * } finally {
 *     Memory.deallocate(buffer);
 * }
 * }</pre>
 *
 * <h2>Which allocator is the default</h2>
 * The default is fixed by the first call that needs it (any method here but {@link #install}). It is, by
 * precedence:
 * <ol>
 *   <li>the allocator passed to {@link #install}, if that ran before the first use;</li>
 *   <li>else one made from the system properties {@value #BUCKET_COUNT_PROPERTY} and
 *       {@value #BUCKET_BYTE_LIMIT_PROPERTY} (sizes like {@code 65536} or {@code 64KB}), where set;</li>
 *   <li>else one made from {@link CacheInfo#defaults()}.</li>
 * </ol>
 * Once fixed it does not change: blocks must go back to the allocator that made them, and a replaced
 * default would receive blocks it never sized.
 */
public final class Memory {

    /** System property: the number of power-of-two buckets of the default allocator. */
    public static final String BUCKET_COUNT_PROPERTY = "hce.memory.cache.bucket-count";

    /** System property: the byte limit of each bucket of the default allocator. */
    public static final String BUCKET_BYTE_LIMIT_PROPERTY = "hce.memory.cache.bucket-byte-limit";

    private static volatile CachingAllocator defaultAllocator;
    @GuardedBy("Memory.class")
    private static CachingAllocator installed;
    @GuardedBy("Memory.class")
    private static Throwable firstUse; // where the default was fixed

    private Memory() {
    }

    /**
     * Allocates {@code byteSize} bytes, aligned to at least 16.
     *
     * @param byteSize the size in bytes, not negative
     * @return a native segment from the default allocator
     * @see CachingAllocator#allocate(long, long)
     */
    public static MemorySegment allocate(long byteSize) {
        return allocator().allocate(byteSize, 1);
    }

    /**
     * Allocates {@code byteSize} bytes aligned to {@code byteAlignment}.
     *
     * @param byteSize      the size in bytes, not negative
     * @param byteAlignment a power of two
     * @return a native segment from the default allocator
     * @see CachingAllocator#allocate(long, long)
     */
    public static MemorySegment allocate(long byteSize, long byteAlignment) {
        return allocator().allocate(byteSize, byteAlignment);
    }

    /**
     * Allocates an array of {@code count} elements: hce's {@code allocate<T>(count)}.
     *
     * @param elementLayout the element's layout
     * @param count         the number of elements, not negative
     * @return a native segment from the default allocator
     * @see java.lang.foreign.SegmentAllocator#allocate(MemoryLayout, long)
     */
    public static MemorySegment allocate(MemoryLayout elementLayout, long count) {
        return allocator().allocate(elementLayout, count);
    }

    /**
     * Gives a segment from {@link #allocate} back to the default allocator.
     *
     * @param segment the segment, not used afterwards
     * @see CachingAllocator#deallocate(MemorySegment)
     */
    public static void deallocate(MemorySegment segment) {
        allocator().deallocate(segment);
    }

    /**
     * Opens a confined arena on the default allocator: its allocations come from the calling thread's cache
     * and all go back to it on {@code close()}.
     *
     * @return a new arena, owned by the calling thread
     * @see CachingAllocator#newArena()
     */
    public static Arena newArena() {
        return allocator().newArena();
    }

    /**
     * @return the default allocator, fixing it if this is the first use
     * @throws IllegalArgumentException if the default is made from system properties that are invalid
     */
    public static CachingAllocator allocator() {
        CachingAllocator allocator = defaultAllocator;
        return allocator != null ? allocator : fixDefault();
    }

    /**
     * Makes {@code allocator} the default. Only before the first use of the default: afterwards blocks of the
     * old default may be live, and they must go back to it.
     *
     * @param allocator the allocator to use by default
     * @throws IllegalStateException if the default is already in use; the message says where it was first used
     * @throws NullPointerException  if {@code allocator} is {@code null}
     */
    public static synchronized void install(CachingAllocator allocator) {
        Objects.requireNonNull(allocator, "allocator");
        if (defaultAllocator != null) {
            throw new IllegalStateException("Memory's default allocator is already in use (" + defaultAllocator
                    + "), so " + allocator + " cannot replace it: install() must run before the first call to"
                    + " Memory. The first use was here (see the cause).", firstUse);
        }
        installed = allocator;
    }

    /**
     * @return whether the default is fixed: {@link #install} is refused from then on
     */
    public static boolean isDefaultFixed() {
        return defaultAllocator != null;
    }

    private static synchronized CachingAllocator fixDefault() {
        if (defaultAllocator == null) {
            CachingAllocator allocator = installed != null ? installed : CachingAllocator.create(infoFromSystemProperties());
            firstUse = new Throwable("first use of Memory's default allocator, on thread "
                    + Thread.currentThread().getName());
            installed = null;
            defaultAllocator = allocator;
        }
        return defaultAllocator;
    }

    /**
     * @return the cache layout the system properties ask for, or hce's defaults where they are not set
     * @throws IllegalArgumentException naming the property, its value and the reason, if one is invalid
     */
    static CacheInfo infoFromSystemProperties() {
        String count = System.getProperty(BUCKET_COUNT_PROPERTY);
        String limit = System.getProperty(BUCKET_BYTE_LIMIT_PROPERTY);
        int bucketCount = CacheInfo.DEFAULT_BUCKET_COUNT;
        long bucketByteLimit = CacheInfo.DEFAULT_BUCKET_BYTE_LIMIT;
        try {
            if (count != null) {
                bucketCount = Integer.parseInt(count.strip());
            }
        } catch (NumberFormatException e) {
            throw invalidProperty(BUCKET_COUNT_PROPERTY, count, "not a whole number");
        }
        try {
            if (limit != null) {
                bucketByteLimit = DataSizes.parse(limit);
            }
        } catch (IllegalArgumentException e) {
            throw invalidProperty(BUCKET_BYTE_LIMIT_PROPERTY, limit, e.getMessage());
        }
        try {
            return CacheInfo.of(bucketCount, bucketByteLimit);
        } catch (InvalidArgumentException e) {
            // both values are set or default, and the defaults are valid: the one named was set
            String property = switch (e.parameter()) {
                case "bucketCount" -> BUCKET_COUNT_PROPERTY;
                case "bucketByteLimit" -> BUCKET_BYTE_LIMIT_PROPERTY;
                default -> throw e;
            };
            throw invalidProperty(property, System.getProperty(property), e.reason());
        }
    }

    private static IllegalArgumentException invalidProperty(String property, String value, String reason) {
        return new IllegalArgumentException("Invalid system property " + property + "=" + value + ": " + reason);
    }
}
