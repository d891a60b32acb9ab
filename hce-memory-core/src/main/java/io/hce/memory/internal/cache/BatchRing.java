package io.hce.memory.internal.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded, lock-free, multi-producer multi-consumer queue of batches ({@code long[]} arrays of block
 * addresses): the storage of a {@link TransferDepot}.
 *
 * <h2>Algorithm</h2>
 * Dmitry Vyukov's bounded MPMC queue, as in JCTools' {@code MpmcArrayQueue}. Each slot has a sequence
 * number. A producer that reads {@code sequence == producerIndex} for its slot owns it once it has moved
 * {@code producerIndex} on by CAS; it stores the element and publishes it by setting the sequence to
 * {@code producerIndex + 1} (release). A consumer that reads {@code sequence == consumerIndex + 1} owns the
 * slot once it has moved {@code consumerIndex} on by CAS; it takes the element and frees the slot for the
 * next lap by setting the sequence to {@code consumerIndex + capacity} (release). A sequence behind the
 * index means the queue is full (producer) or empty (consumer): the call fails at once, never spins on
 * another thread's progress.
 *
 * <p>The indices and sequences only grow, so there is no ABA. Each index sits on its own cache line so
 * producers and consumers do not false-share.
 */
final class BatchRing {

    private static final VarHandle SEQUENCE = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle PRODUCER_INDEX = FieldHandles.of(MethodHandles.lookup(), "producerIndex", long.class);
    private static final VarHandle CONSUMER_INDEX = FieldHandles.of(MethodHandles.lookup(), "consumerIndex", long.class);

    private final long[][] elements;
    private final long[] sequences;
    private final int mask;

    // Padding: HotSpot lays out fields of one type in declaration order, which keeps the two indices
    // (and the array references above) on different cache lines.
    @SuppressWarnings("unused")
    private long p01, p02, p03, p04, p05, p06, p07;
    private volatile long producerIndex;
    @SuppressWarnings("unused")
    private long p11, p12, p13, p14, p15, p16, p17;
    private volatile long consumerIndex;
    @SuppressWarnings("unused")
    private long p21, p22, p23, p24, p25, p26, p27;

    /**
     * @param capacity the most batches held; a power of two, at least 2
     */
    BatchRing(int capacity) {
        if (capacity < 2 || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two of at least 2, was " + capacity);
        }
        elements = new long[capacity][];
        sequences = new long[capacity];
        for (int i = 0; i < capacity; i++) {
            sequences[i] = i;
        }
        mask = capacity - 1;
    }

    /**
     * @param batch the batch to add
     * @return false, having changed nothing, when the ring is full
     */
    boolean offer(long[] batch) {
        long index;
        int slot;
        while (true) {
            index = (long) PRODUCER_INDEX.getVolatile(this);
            slot = (int) index & mask;
            long sequence = (long) SEQUENCE.getAcquire(sequences, slot);
            if (sequence < index) {
                return false;
            }
            if (sequence == index && PRODUCER_INDEX.compareAndSet(this, index, index + 1)) {
                break;
            }
        }
        elements[slot] = batch;
        SEQUENCE.setRelease(sequences, slot, index + 1);
        return true;
    }

    /**
     * @return the oldest batch, or {@code null} when the ring is empty
     */
    long[] poll() {
        long index;
        int slot;
        while (true) {
            index = (long) CONSUMER_INDEX.getVolatile(this);
            slot = (int) index & mask;
            long sequence = (long) SEQUENCE.getAcquire(sequences, slot);
            if (sequence < index + 1) {
                return null;
            }
            if (sequence == index + 1 && CONSUMER_INDEX.compareAndSet(this, index, index + 1)) {
                break;
            }
        }
        long[] batch = elements[slot];
        elements[slot] = null;
        SEQUENCE.setRelease(sequences, slot, index + mask + 1);
        return batch;
    }

    /**
     * @return the number of batches held, approximate while other threads offer or poll
     */
    int size() {
        while (true) {
            long consumer = consumerIndex;
            long producer = producerIndex;
            if (consumer == consumerIndex) {
                return Math.clamp(producer - consumer, 0, mask + 1);
            }
        }
    }

    /** @return the most batches held */
    int capacity() {
        return mask + 1;
    }
}
