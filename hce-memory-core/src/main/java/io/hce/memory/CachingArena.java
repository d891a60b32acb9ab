package io.hce.memory;

import io.hce.memory.internal.platform.NativeMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A confined {@link Arena} over a {@link CachingAllocator}: the Java form of hce's {@code allocator<T>}.
 *
 * <h2>Design</h2>
 * The arena's scope is a JDK confined arena's ({@code scopeArena}): its segments are slices of
 * {@code space}, a segment over the whole address space bound to that scope, so they are confined to the
 * owner and die with it, exactly as the JDK's own arenas' segments do. Slicing is not restricted, so the one
 * restricted call ({@code reinterpret}) is paid once per arena, not per allocation. Each block's address
 * and size are recorded in two growable {@code long} arrays; {@code close()} first closes the scope, so no
 * segment can reach the memory any more, then gives every block back to the allocator, which puts them
 * in the owner's cache.
 */
final class CachingArena implements Arena {

    private static final int INITIAL_BLOCKS = 8;

    private final CachingAllocator allocator;
    private final Thread owner;
    private final Arena scopeArena;
    private final MemorySegment space;
    private long[] addresses = new long[INITIAL_BLOCKS];
    private long[] sizes = new long[INITIAL_BLOCKS];
    private int count;

    CachingArena(CachingAllocator allocator) {
        this.allocator = allocator;
        this.owner = Thread.currentThread();
        this.scopeArena = Arena.ofConfined();
        this.space = NativeMemory.segment(0, Long.MAX_VALUE).reinterpret(scopeArena, null);
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        Arguments.checkSize(byteSize);
        Arguments.checkAlignment(byteAlignment);
        checkOwnerAndOpen();
        long address = allocator.allocateBlock(byteSize, byteAlignment);
        if (count == addresses.length) {
            addresses = Arrays.copyOf(addresses, count * 2);
            sizes = Arrays.copyOf(sizes, count * 2);
        }
        addresses[count] = address;
        sizes[count] = byteSize;
        count++;
        return space.asSlice(address, byteSize);
    }

    @Override
    public MemorySegment.Scope scope() {
        return scopeArena.scope();
    }

    @Override
    public void close() {
        checkOwnerAndOpen();
        scopeArena.close();
        for (int i = count - 1; i >= 0; i--) {
            allocator.deallocateBlock(addresses[i], sizes[i]);
        }
        count = 0;
    }

    private void checkOwnerAndOpen() {
        if (Thread.currentThread() != owner) {
            throw new WrongThreadException("a caching arena is confined to the thread that opened it, " + owner);
        }
        if (!scopeArena.scope().isAlive()) {
            throw new IllegalStateException("Already closed");
        }
    }

    @Override
    public String toString() {
        return "CachingArena[" + count + " blocks, owner " + owner.getName() + (scope().isAlive() ? "" : ", closed") + "]";
    }
}
