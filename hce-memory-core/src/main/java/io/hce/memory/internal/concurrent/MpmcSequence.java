package io.hce.memory.internal.concurrent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

// The padding is a chain of classes, as in JCTools: HotSpot lays out a superclass's fields before its
// subclass's, which is the one ordering it keeps (within a class it sorts fields by size, so padding
// fields declared in between land wherever). Each pad is 7 longs: with the 8-byte index beside it, the
// two indices start 64 bytes apart, and no other field shares a cache line with either.

/** The fields every claim reads and none writes: read-mostly, on the line of the object header. */
abstract class MpmcSequenceColdFields {

    final long[] sequences;
    final int capacity;
    final int mask; // -1 when the capacity is not a power of two

    MpmcSequenceColdFields(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
        }
        this.capacity = capacity;
        this.mask = Integer.bitCount(capacity) == 1 ? capacity - 1 : -1;
        this.sequences = new long[capacity];
        for (int i = 0; i < capacity; i++) {
            sequences[i] = 2L * i;
        }
    }
}

abstract class MpmcSequenceL0Pad extends MpmcSequenceColdFields {

    @SuppressWarnings("unused")
    private long p00, p01, p02, p03, p04, p05, p06;

    MpmcSequenceL0Pad(int capacity) {
        super(capacity);
    }
}

abstract class MpmcSequenceProducerIndexField extends MpmcSequenceL0Pad {

    private static final VarHandle PRODUCER_INDEX = FieldHandles.of(MethodHandles.lookup(), "producerIndex", long.class);

    private volatile long producerIndex;

    MpmcSequenceProducerIndexField(int capacity) {
        super(capacity);
    }

    final long producerIndex() {
        return producerIndex;
    }

    final boolean casProducerIndex(long expected, long next) {
        return PRODUCER_INDEX.compareAndSet(this, expected, next);
    }
}

abstract class MpmcSequenceL1Pad extends MpmcSequenceProducerIndexField {

    @SuppressWarnings("unused")
    private long p10, p11, p12, p13, p14, p15, p16;

    MpmcSequenceL1Pad(int capacity) {
        super(capacity);
    }
}

abstract class MpmcSequenceConsumerIndexField extends MpmcSequenceL1Pad {

    private static final VarHandle CONSUMER_INDEX = FieldHandles.of(MethodHandles.lookup(), "consumerIndex", long.class);

    private volatile long consumerIndex;

    MpmcSequenceConsumerIndexField(int capacity) {
        super(capacity);
    }

    final long consumerIndex() {
        return consumerIndex;
    }

    final boolean casConsumerIndex(long expected, long next) {
        return CONSUMER_INDEX.compareAndSet(this, expected, next);
    }
}

abstract class MpmcSequenceL2Pad extends MpmcSequenceConsumerIndexField {

    @SuppressWarnings("unused")
    private long p20, p21, p22, p23, p24, p25, p26; // keeps the consumer index off the next object's line

    MpmcSequenceL2Pad(int capacity) {
        super(capacity);
    }
}

/**
 * The slot protocol of a bounded, lock-free, multi-producer multi-consumer ring; the ring's elements live
 * in the caller's array, indexed by {@link #slot}.
 *
 * <h2>Algorithm</h2>
 * Dmitry Vyukov's bounded MPMC queue, as in JCTools' {@code MpmcArrayQueue}. Each slot has a sequence
 * number, kept doubled so that "published" and "free for the next lap" differ even with a single slot.
 * A producer that reads {@code sequence == 2 * producerIndex} for its slot owns it once it has moved
 * {@code producerIndex} on by CAS; it stores the element and publishes it by setting the sequence to
 * {@code 2 * index + 1} (release). A consumer that reads {@code sequence == 2 * consumerIndex + 1} owns the
 * slot once it has moved {@code consumerIndex} on by CAS; it takes the element and frees the slot for the
 * next lap by setting the sequence to {@code 2 * (index + capacity)} (release). A sequence behind that
 * means full (producer) or empty (consumer): the claim fails at once, never waits on another thread.
 *
 * <p>The capacity is exact, any positive number: slots are {@code index % capacity}, a mask when the
 * capacity is a power of two. Indices only grow (2<sup>62</sup> operations outlast any process), so there
 * is no ABA, and they count every element ever produced and consumed. Each index sits on its own cache
 * line. The ordering this gives the caller's elements is rule 1 of the package documentation.
 */
public final class MpmcSequence extends MpmcSequenceL2Pad {

    private static final VarHandle SEQUENCE = MethodHandles.arrayElementVarHandle(long[].class);

    /**
     * @param capacity the number of slots, at least 1
     */
    public MpmcSequence(int capacity) {
        super(capacity);
    }

    /** @return the number of slots */
    public int capacity() {
        return capacity;
    }

    /**
     * @param index an index returned by a claim
     * @return the slot of the caller's array that the index stands for
     */
    public int slot(long index) {
        return mask >= 0 ? (int) index & mask : (int) (index % capacity);
    }

    /**
     * @return the index of a slot the caller may now fill and must then {@link #publish}, or -1 when full
     */
    public long claimForProducer() {
        while (true) {
            long index = producerIndex();
            long sequence = (long) SEQUENCE.getAcquire(sequences, slot(index));
            if (sequence < 2 * index) {
                return -1;
            }
            if (sequence == 2 * index && casProducerIndex(index, index + 1)) {
                return index;
            }
        }
    }

    /** Makes the element stored in a claimed slot visible to consumers. */
    public void publish(long index) {
        SEQUENCE.setRelease(sequences, slot(index), 2 * index + 1);
    }

    /**
     * @return the index of a slot whose element the caller may now take and must then {@link #release},
     *         or -1 when empty
     */
    public long claimForConsumer() {
        while (true) {
            long index = consumerIndex();
            long sequence = (long) SEQUENCE.getAcquire(sequences, slot(index));
            if (sequence < 2 * index + 1) {
                return -1;
            }
            if (sequence == 2 * index + 1 && casConsumerIndex(index, index + 1)) {
                return index;
            }
        }
    }

    /** Hands a consumed slot back to producers for the next lap. */
    public void release(long index) {
        SEQUENCE.setRelease(sequences, slot(index), 2 * (index + capacity));
    }

    /** @return how many elements have ever been claimed by consumers */
    public long consumed() {
        return consumerIndex();
    }

    /** @return the number of elements held, approximate while other threads produce or consume */
    public int size() {
        while (true) {
            long consumer = consumerIndex();
            long producer = producerIndex();
            if (consumer == consumerIndex()) {
                return Math.clamp(producer - consumer, 0, capacity);
            }
        }
    }
}
