package io.hce.memory.testing;

import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.hce.memory.FixedHeap;
import io.hce.memory.PoolAllocator;
import io.hce.memory.internal.pool.BlockPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Proxy;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The extension fails a test that broke what it checks, passes one that did not, and closes what it tracks. */
class ValidationTest {

    @Test
    void aHeapLeftConsistentAndEmptyPassesAndIsClosed() {
        Validation validation = new Validation();
        FixedHeap heap = validation.track(FixedHeap.create("clean", FixedHeap.MIN_CAPACITY));
        heap.free(heap.allocate(100));
        validation.expectNothingLive();
        assertThatCode(() -> afterTest(validation, null)).doesNotThrowAnyException();
        assertThat(heap.statistics().freeBytes()).as("closed").isZero();
    }

    @Test
    void aCorruptHeapFails() {
        Validation validation = new Validation();
        FixedHeap heap = validation.track(FixedHeap.create("corrupt", FixedHeap.MIN_CAPACITY));
        MemorySegment block = heap.allocate(100);
        MemorySegment.ofAddress(block.address() - 16).reinterpret(16).fill((byte) 0x5A); // its header
        assertThatThrownBy(() -> afterTest(validation, null)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("heap 'corrupt' is inconsistent");
    }

    @Test
    void aBlockLeftInUseFailsOnlyWhereTheTestSaysItFreesEverything() {
        Validation lenient = new Validation();
        lenient.track(FixedHeap.create("kept", FixedHeap.MIN_CAPACITY)).allocate(100);
        assertThatCode(() -> afterTest(lenient, null)).doesNotThrowAnyException();

        Validation strict = new Validation();
        strict.track(FixedHeap.create("leaky", FixedHeap.MIN_CAPACITY)).allocate(100);
        strict.expectNothingLive();
        assertThatThrownBy(() -> afterTest(strict, null)).hasMessageContaining("heap 'leaky': 128 bytes still in use");
    }

    @Test
    void placesThatDoNotAddUpFail() throws ReflectiveOperationException {
        Validation validation = new Validation();
        BlockPool pool = validation.track(new BlockPool("broken", 48, 16, 100));
        pool.deallocate(pool.allocate());
        Object ledger = PrivateFields.read(pool, "ledger", Object.class);
        Field free = ledger.getClass().getDeclaredField("free");
        free.setAccessible(true);
        free.setLong(ledger, free.getLong(ledger) + 1); // a place from nowhere
        assertThatThrownBy(() -> afterTest(validation, null)).hasMessageContaining("the places add up to 101");
    }

    @Test
    void aPoolBlockNotGivenBackFails() {
        Validation validation = new Validation();
        PoolAllocator pool = validation.track(PoolAllocator.create("leaky", ValueLayout.JAVA_LONG, 8));
        MemorySegment kept = pool.allocate();
        pool.deallocate(pool.allocate());
        validation.expectNothingLive();
        assertThatThrownBy(() -> afterTest(validation, null)).hasMessageContaining("pool 'leaky'")
                .hasMessageContaining("1 blocks still out");
        pool.deallocate(kept); // closed by now: freed at once
    }

    @Test
    void reservedBytesAfterTrimFail() {
        Validation validation = new Validation();
        CachingAllocator allocator = validation.track(CachingAllocator.create(CacheInfo.defaults()));
        MemorySegment kept = allocator.allocate(100);
        validation.expectNothingLive();
        assertThatThrownBy(() -> afterTest(validation, null)).hasMessageContaining("bytes still reserved after trim()");
        allocator.deallocate(kept);
    }

    @Test
    void aTestThatFailedIsNotCheckedAgainButItsHeapsAreClosed() {
        Validation validation = new Validation();
        FixedHeap heap = validation.track(FixedHeap.create("failed", FixedHeap.MIN_CAPACITY));
        heap.allocate(100);
        validation.expectNothingLive();
        assertThatCode(() -> afterTest(validation, new AssertionError("the test's own failure")))
                .doesNotThrowAnyException();
        assertThat(heap.statistics().freeBytes()).as("closed").isZero();
    }

    /** What JUnit does after a test method: the check, then the release, whatever the check threw. */
    private static void afterTest(Validation validation, Throwable testFailure) {
        ExtensionContext context = context(testFailure);
        try {
            validation.afterTestExecution(context);
        } finally {
            validation.afterEach(context);
        }
    }

    private static ExtensionContext context(Throwable testFailure) {
        return (ExtensionContext) Proxy.newProxyInstance(ExtensionContext.class.getClassLoader(),
                new Class<?>[] {ExtensionContext.class}, (proxy, method, arguments) -> switch (method.getName()) {
                    case "getExecutionException" -> Optional.ofNullable(testFailure);
                    case "getDisplayName" -> "a test";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
