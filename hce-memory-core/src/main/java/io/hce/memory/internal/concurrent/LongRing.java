package io.hce.memory.internal.concurrent;

/**
 * A bounded, lock-free, multi-producer multi-consumer queue of {@code long}s (block addresses), of exactly
 * the capacity asked for. The values are stored without boxing, with plain stores that the
 * {@link MpmcSequence} orders (rule 1 of the package documentation).
 *
 * <p>The cache package's {@code BatchRing} is the same few lines over {@code long[][]}: the core they share
 * is {@code MpmcSequence}. One generic ring would box these values, or reach both arrays through an
 * accessor the JIT could not always inline.
 */
public final class LongRing {

    private final MpmcSequence sequence;
    private final long[] values;

    /**
     * @param capacity the most values held, at least 1
     */
    public LongRing(int capacity) {
        this.sequence = new MpmcSequence(capacity);
        this.values = new long[capacity];
    }

    /**
     * @param value the value to add
     * @return false, having changed nothing, when the ring is full
     */
    public boolean offer(long value) {
        long index = sequence.claimForProducer();
        if (index < 0) {
            return false;
        }
        values[sequence.slot(index)] = value;
        sequence.publish(index);
        return true;
    }

    /**
     * @param empty what to return when the ring is empty
     * @return the oldest value, or {@code empty}
     */
    public long poll(long empty) {
        long index = sequence.claimForConsumer();
        if (index < 0) {
            return empty;
        }
        long value = values[sequence.slot(index)];
        sequence.release(index);
        return value;
    }

    /** @return how many values have ever been taken out */
    public long polled() {
        return sequence.consumed();
    }

    /** @return the number of values held, approximate while other threads offer or poll */
    public int size() {
        return sequence.size();
    }

    /** @return the most values held */
    public int capacity() {
        return sequence.capacity();
    }
}
