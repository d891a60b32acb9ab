package io.hce.memory.internal.platform;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Downcalls to the C allocator, and the one way the library turns an address into a segment.
 *
 * <h2>Design</h2>
 * Pointers cross the boundary as {@code long}s ({@code JAVA_LONG} in the descriptors, not
 * {@code ADDRESS}), so no call allocates a {@link MemorySegment} on the Java heap. Each function has two
 * handles: a {@linkplain Linker.Option#critical(boolean) critical} one, which skips the thread-state
 * transition and halves the cost of a call, and a plain one. Critical calls keep the calling thread in
 * Java state, so a long one delays every safepoint; they are used only for requests at or below
 * {@link #CRITICAL_CALL_LIMIT}, which {@code malloc} serves from its arenas without {@code mmap}/{@code munmap}.
 *
 * <p>Segments are made by slicing {@link #EVERYTHING}, a global-scope segment that spans the whole
 * address space. {@code asSlice} is not restricted and makes one object, where
 * {@code MemorySegment.ofAddress(a).reinterpret(n)} makes two and checks the caller's native access.
 */
public final class NativeMemory {

    /**
     * The alignment {@code malloc} guarantees on 64-bit Linux ({@code alignof(max_align_t)}); larger
     * alignments are requested from {@code aligned_alloc}.
     */
    public static final long MALLOC_ALIGNMENT = 16;

    /** Requests larger than this use the non-critical handles (glibc's default mmap threshold). */
    public static final long CRITICAL_CALL_LIMIT = 128 * 1024;

    /** The whole address space, in the global scope: {@code asSlice} on it makes native segments. */
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    /** The bits a user-space address can have (see {@link #inAddressSpace}). */
    private static final long USER_SPACE_MASK = (1L << 56) - 1;

    /** The global scope, as a constant the JIT folds into {@link #isGlobal}'s compare. */
    private static final MemorySegment.Scope GLOBAL = EVERYTHING.scope();

    private static final MethodHandle MALLOC_CRITICAL;
    private static final MethodHandle MALLOC;
    private static final MethodHandle ALIGNED_ALLOC_CRITICAL;
    private static final MethodHandle ALIGNED_ALLOC;
    private static final MethodHandle FREE_CRITICAL;
    private static final MethodHandle FREE;
    private static final MethodHandle MADVISE; // null where the C library has none

    /** Linux's {@code MADV_HUGEPAGE}: back the range with transparent huge pages where the kernel allows. */
    private static final int MADV_HUGEPAGE = 14;

    /** The size of a transparent huge page on x86-64 and most arm64 kernels. */
    public static final long HUGE_PAGE_SIZE = 2L << 20;

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        FunctionDescriptor malloc = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG);
        FunctionDescriptor alignedAlloc = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG);
        FunctionDescriptor free = FunctionDescriptor.ofVoid(JAVA_LONG);
        Linker.Option critical = Linker.Option.critical(false);
        MemorySegment mallocSymbol = find(libc, "malloc");
        MemorySegment alignedAllocSymbol = find(libc, "aligned_alloc");
        MemorySegment freeSymbol = find(libc, "free");
        MALLOC_CRITICAL = linker.downcallHandle(mallocSymbol, malloc, critical);
        MALLOC = linker.downcallHandle(mallocSymbol, malloc);
        ALIGNED_ALLOC_CRITICAL = linker.downcallHandle(alignedAllocSymbol, alignedAlloc, critical);
        ALIGNED_ALLOC = linker.downcallHandle(alignedAllocSymbol, alignedAlloc);
        FREE_CRITICAL = linker.downcallHandle(freeSymbol, free, critical);
        FREE = linker.downcallHandle(freeSymbol, free);
        MADVISE = libc.find("madvise").map(symbol -> linker.downcallHandle(symbol,
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT))).orElse(null);
    }

    /**
     * Asks the kernel to back a range with transparent huge pages: fewer TLB misses when a large region is
     * accessed at random. Best effort: where the kernel or the C library cannot, nothing happens.
     *
     * @param address the range's start, aligned to {@link #HUGE_PAGE_SIZE}
     * @param byteSize the range's size
     * @return whether the kernel accepted the advice
     */
    public static boolean adviseHugePages(long address, long byteSize) {
        if (MADVISE == null) {
            return false;
        }
        try {
            return (int) MADVISE.invokeExact(address, byteSize, MADV_HUGEPAGE) == 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private NativeMemory() {
    }

    private static MemorySegment find(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError("C library function not found: " + name));
    }

    /**
     * Allocates {@code byteSize} bytes aligned to at least {@code byteAlignment}.
     *
     * @param byteSize      bytes to allocate, at least 1
     * @param byteAlignment a power of two
     * @return the address of the new block, never 0
     * @throws OutOfMemoryError when the C allocator returns {@code NULL}
     */
    public static long allocate(long byteSize, long byteAlignment) {
        long address = byteAlignment <= MALLOC_ALIGNMENT ? malloc(byteSize) : alignedAlloc(byteAlignment, byteSize);
        if (address == 0) {
            throw new OutOfMemoryError("Cannot allocate " + byteSize + " bytes aligned to " + byteAlignment
                    + " of native memory: the C allocator returned NULL");
        }
        return address;
    }

    /**
     * Frees a block of {@code byteSize} bytes obtained from {@link #allocate}.
     *
     * @param address  the block's address
     * @param byteSize the size it was allocated with (chooses the call path, not passed to {@code free})
     */
    public static void free(long address, long byteSize) {
        try {
            if (byteSize <= CRITICAL_CALL_LIMIT) {
                FREE_CRITICAL.invokeExact(address);
            } else {
                FREE.invokeExact(address);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * A native segment of {@code byteSize} bytes at {@code address}, in the global scope.
     *
     * @param address  the first byte
     * @param byteSize the segment's size
     * @return a new segment; the caller owns the memory behind it
     */
    public static MemorySegment segment(long address, long byteSize) {
        return EVERYTHING.asSlice(address, byteSize);
    }

    /**
     * The whole address space, in the global scope, for accesses by address where the caller proves the memory
     * live by other means than a scope (a lock the memory's owner takes before freeing it). A constant: the JIT
     * folds its scope and its length; at an address passed through {@link #inAddressSpace} it also drops the
     * bounds check, so such an access compiles to a single load or store.
     *
     * @return the same segment every time
     */
    public static MemorySegment addressSpace() {
        return EVERYTHING;
    }

    /**
     * A user-space address with the bits that no user-space address has cleared: unchanged for every address
     * below 2<sup>56</sup> ({@link #isInAddressSpace}), where user space ends on every 64-bit platform the JDK
     * runs on (x86-64 with 5-level paging; AArch64's is smaller), unless the C library tags its pointers in the
     * top byte (AArch64's memory tagging, when glibc's heap tagging is turned on), which callers then refuse. The JIT then knows the address below
     * {@link #addressSpace()}'s end and compiles an access there without a bounds check.
     *
     * @param address an address of memory that {@link #isInAddressSpace} accepted
     * @return the same address
     */
    public static long inAddressSpace(long address) {
        return address & USER_SPACE_MASK;
    }

    /**
     * @return whether the whole of a native {@code segment} is below 2<sup>56</sup>, so that {@link #inAddressSpace}
     *         keeps its addresses
     */
    public static boolean isInAddressSpace(MemorySegment segment) {
        // its end at most 2^56: its last byte below
        return Long.compareUnsigned(segment.address() + segment.byteSize(), USER_SPACE_MASK + 1) <= 0;
    }

    /**
     * Whether {@code segment} is in the global scope, as every segment made by {@link #segment} is. Segments
     * of a confined, shared or automatic {@code Arena} and of a direct buffer are not: their memory belongs
     * to someone else. ({@code Arena.global()} shares the global scope, so its segments pass.)
     *
     * @param segment a native segment
     * @return true when its scope is the global one
     */
    public static boolean isGlobal(MemorySegment segment) {
        return segment.scope() == GLOBAL;
    }

    private static long malloc(long byteSize) {
        try {
            return byteSize <= CRITICAL_CALL_LIMIT
                    ? (long) MALLOC_CRITICAL.invokeExact(byteSize)
                    : (long) MALLOC.invokeExact(byteSize);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static long alignedAlloc(long byteAlignment, long byteSize) {
        try {
            return byteSize <= CRITICAL_CALL_LIMIT
                    ? (long) ALIGNED_ALLOC_CRITICAL.invokeExact(byteAlignment, byteSize)
                    : (long) ALIGNED_ALLOC.invokeExact(byteAlignment, byteSize);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("Unexpected checked exception from a downcall", t);
    }
}
