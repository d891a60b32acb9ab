package io.hce.memory.benchmarks;

import io.hce.memory.AllocatorOptions;
import io.hce.memory.CacheInfo;
import io.hce.memory.CachingAllocator;
import io.netty.buffer.ByteBuf;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Control;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

/**
 * Target 2: one thread allocates 64-byte blocks and hands them over a single-producer single-consumer
 * queue to another, which frees them (mimalloc-bench's xmalloc shape). The score is the producer's
 * throughput: blocks handed over per microsecond. {@code hce} hands over segments, {@code hceAddresses}
 * addresses ({@code CachingAllocator.allocateAddress}), as the C allocator's peer does. {@code queueOnly} hands over a pre-made block: the
 * harness alone. {@code queueNewObject} hands over a new 40-byte object each time, the size of a
 * {@code MemorySegment}: the harness plus what the JVM charges for passing a new object between threads
 * (its allocation, and the collector's write barrier when it is stored into the long-lived queue).
 */
@State(Scope.Group)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ProducerConsumerBenchmark extends BenchmarkDefaults {

    private static final long SIZE = 64;

    private final SpscQueue queue = new SpscQueue(1024);
    private final SpscQueue.OfLong addressQueue = new SpscQueue.OfLong(1024);
    private CachingAllocator allocator;
    private final MemorySegment premade = MemorySegment.ofArray(new byte[(int) SIZE]);

    @Setup
    public void setUp() {
        allocator = CachingAllocator.create(CacheInfo.defaults(), AllocatorOptions.NONE);
    }

    @Benchmark
    @Group("hce")
    @GroupThreads(1)
    public void hceProducer(Control control) {
        MemorySegment block = allocator.allocate(SIZE);
        if (!queue.offer(block, control)) {
            allocator.deallocate(block);
        }
    }

    @Benchmark
    @Group("hce")
    @GroupThreads(1)
    public void hceConsumer(Control control) {
        Object block = queue.poll(control);
        if (block != null) {
            allocator.deallocate((MemorySegment) block);
        }
    }

    @Benchmark
    @Group("hceAddresses")
    @GroupThreads(1)
    public void hceAddressProducer(Control control) {
        long address = allocator.allocateAddress(SIZE);
        if (!addressQueue.offer(address, control)) {
            allocator.deallocateAddress(address, SIZE);
        }
    }

    @Benchmark
    @Group("hceAddresses")
    @GroupThreads(1)
    public void hceAddressConsumer(Control control) {
        long address = addressQueue.poll(control);
        if (address != 0) {
            allocator.deallocateAddress(address, SIZE);
        }
    }

    @Benchmark
    @Group("mallocFreeCritical")
    @GroupThreads(1)
    public void mallocProducer(Control control) throws Throwable {
        long address = (long) Libc.MALLOC_CRITICAL.invokeExact(SIZE);
        if (!addressQueue.offer(address, control)) {
            Libc.FREE_CRITICAL.invokeExact(address);
        }
    }

    @Benchmark
    @Group("mallocFreeCritical")
    @GroupThreads(1)
    public void mallocConsumer(Control control) throws Throwable {
        long address = addressQueue.poll(control);
        if (address != 0) {
            Libc.FREE_CRITICAL.invokeExact(address);
        }
    }

    @Benchmark
    @Group("nettyPooled")
    @GroupThreads(1)
    public void nettyProducer(Control control) {
        ByteBuf buffer = Peers.NETTY_POOLED.directBuffer((int) SIZE);
        if (!queue.offer(buffer, control)) {
            buffer.release();
        }
    }

    @Benchmark
    @Group("nettyPooled")
    @GroupThreads(1)
    public void nettyConsumer(Control control) {
        Object buffer = queue.poll(control);
        if (buffer != null) {
            ((ByteBuf) buffer).release();
        }
    }

    @Benchmark
    @Group("queueOnly")
    @GroupThreads(1)
    public void queueProducer(Control control) {
        queue.offer(premade, control);
    }

    @Benchmark
    @Group("queueOnly")
    @GroupThreads(1)
    public void queueConsumer(Control control) {
        queue.poll(control);
    }

    @Benchmark
    @Group("queueNewObject")
    @GroupThreads(1)
    public void newObjectProducer(Control control) {
        queue.offer(new long[3], control); // 16-byte header + 24: as large as a native MemorySegment
    }

    @Benchmark
    @Group("queueNewObject")
    @GroupThreads(1)
    public void newObjectConsumer(Control control) {
        queue.poll(control);
    }

    /**
     * A single-producer single-consumer ring that spins while full or empty, until JMH stops measuring; the
     * C allocator's addresses go through {@link OfLong}, the same ring over {@code long}s, so nothing boxes.
     * The producer's and the consumer's indices sit on cache lines of their own (HotSpot lays out fields of
     * one type in declaration order), so the harness does not charge every hand-over a false-sharing miss.
     */
    static final class SpscQueue {
        private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(Object[].class);
        private final Object[] slots;
        private final int mask;
        @SuppressWarnings("unused")
        private long p01, p02, p03, p04, p05, p06, p07;
        private long head; // producer only
        @SuppressWarnings("unused")
        private long p11, p12, p13, p14, p15, p16, p17;
        private long tail; // consumer only
        @SuppressWarnings("unused")
        private long p21, p22, p23, p24, p25, p26, p27;

        SpscQueue(int capacity) {
            slots = new Object[capacity];
            mask = capacity - 1;
        }

        boolean offer(Object element, Control control) {
            int slot = (int) head & mask;
            while (SLOTS.getAcquire(slots, slot) != null) {
                if (control.stopMeasurement) {
                    return false;
                }
                Thread.onSpinWait();
            }
            SLOTS.setRelease(slots, slot, element);
            head++;
            return true;
        }

        Object poll(Control control) {
            int slot = (int) tail & mask;
            Object element;
            while ((element = SLOTS.getAcquire(slots, slot)) == null) {
                if (control.stopMeasurement) {
                    return null;
                }
                Thread.onSpinWait();
            }
            SLOTS.setRelease(slots, slot, null);
            tail++;
            return element;
        }

        /** The same ring over non-zero {@code long}s. */
        static final class OfLong {
            private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(long[].class);
            private final long[] slots;
            private final int mask;
            @SuppressWarnings("unused")
            private long p01, p02, p03, p04, p05, p06, p07;
            private long head;
            @SuppressWarnings("unused")
            private long p11, p12, p13, p14, p15, p16, p17;
            private long tail;
            @SuppressWarnings("unused")
            private long p21, p22, p23, p24, p25, p26, p27;

            OfLong(int capacity) {
                slots = new long[capacity];
                mask = capacity - 1;
            }

            boolean offer(long element, Control control) {
                int slot = (int) head & mask;
                while ((long) SLOTS.getAcquire(slots, slot) != 0) {
                    if (control.stopMeasurement) {
                        return false;
                    }
                    Thread.onSpinWait();
                }
                SLOTS.setRelease(slots, slot, element);
                head++;
                return true;
            }

            long poll(Control control) {
                int slot = (int) tail & mask;
                long element;
                while ((element = (long) SLOTS.getAcquire(slots, slot)) == 0) {
                    if (control.stopMeasurement) {
                        return 0;
                    }
                    Thread.onSpinWait();
                }
                SLOTS.setRelease(slots, slot, 0L);
                tail++;
                return element;
            }
        }
    }
}
