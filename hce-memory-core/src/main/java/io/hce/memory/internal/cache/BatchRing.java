package io.hce.memory.internal.cache;

import io.hce.memory.internal.concurrent.MpmcSequence;

/**
 * A bounded, lock-free, multi-producer multi-consumer queue of batches ({@code long[]} arrays of block
 * addresses): the storage of a {@link TransferDepot}. The slot protocol and its ordering rules are
 * {@link MpmcSequence}'s (rule 1 of its package): the batches' contents, written before the offer, are
 * published with the slot.
 *
 * <p>{@code LongRing} is the same few lines over {@code long[]}; the core they share is
 * {@code MpmcSequence}. Kept apart because one generic ring would box {@code LongRing}'s values, or reach
 * both arrays through an accessor the JIT could not always inline; and this one clears the slot it polls,
 * so that the ring does not keep a taken batch reachable.
 */
final class BatchRing {

    private final MpmcSequence sequence;
    private final long[][] batches;

    /**
     * @param capacity the most batches held; a power of two, at least 2
     */
    BatchRing(int capacity) {
        if (capacity < 2 || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two of at least 2, was " + capacity);
        }
        this.sequence = new MpmcSequence(capacity);
        this.batches = new long[capacity][];
    }

    /**
     * @param batch the batch to add
     * @return false, having changed nothing, when the ring is full
     */
    boolean offer(long[] batch) {
        long index = sequence.claimForProducer();
        if (index < 0) {
            return false;
        }
        batches[sequence.slot(index)] = batch;
        sequence.publish(index);
        return true;
    }

    /**
     * @return the oldest batch, or {@code null} when the ring is empty
     */
    long[] poll() {
        long index = sequence.claimForConsumer();
        if (index < 0) {
            return null;
        }
        int slot = sequence.slot(index);
        long[] batch = batches[slot];
        batches[slot] = null;
        sequence.release(index);
        return batch;
    }

    /** @return the number of batches held, approximate while other threads offer or poll */
    int size() {
        return sequence.size();
    }

    /** @return the most batches held */
    int capacity() {
        return sequence.capacity();
    }
}
