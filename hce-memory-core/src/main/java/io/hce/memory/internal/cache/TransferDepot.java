package io.hce.memory.internal.cache;

/**
 * The shared store of one bucket, between its thread caches: tcmalloc's transfer cache.
 *
 * <h2>Why</h2>
 * A thread cache alone cannot serve a producer/consumer pair: the producer's bucket runs dry and calls
 * {@code malloc} for every block, while the consumer's fills up and calls {@code free} for every block.
 * With the depot, a thread whose bucket is full moves a batch of blocks here instead of freeing them, and
 * a thread whose bucket is empty takes a batch before it calls {@code malloc}. Blocks freed on one thread
 * come back to another without a round trip through the C allocator.
 *
 * <h2>Design</h2>
 * Blocks move in batches of {@link SizeClasses#batchSize} addresses, so the depot's atomics are paid once
 * per batch, not once per block. Batches are {@code long[]}s; the emptied ones are kept in a second ring
 * ({@code spares}) and reused, so after warm-up moving blocks allocates nothing on the Java heap. The
 * depot holds at most {@link #maxBatches()} batches; a thread that finds it full frees the block it holds.
 */
final class TransferDepot {

    private final int batchSize;
    private final BatchRing full;
    private final BatchRing spares;

    /**
     * @param batchSize  addresses per batch, at least 1
     * @param maxBatches the most batches held; a power of two, at least 2
     */
    TransferDepot(int batchSize, int maxBatches) {
        this.batchSize = batchSize;
        this.full = new BatchRing(maxBatches);
        this.spares = new BatchRing(maxBatches);
    }

    /**
     * Moves {@code batchSize} addresses, {@code from[offset …]}, into the depot.
     *
     * @return false, having moved nothing, when the depot is full
     */
    boolean offer(long[] from, int offset) {
        if (full.size() == full.capacity()) {
            return false; // cheap early out; the offer below decides
        }
        long[] batch = spares.poll();
        if (batch == null) {
            batch = new long[batchSize];
        }
        System.arraycopy(from, offset, batch, 0, batchSize);
        if (full.offer(batch)) {
            return true;
        }
        spares.offer(batch);
        return false;
    }

    /**
     * Moves one batch of {@code batchSize} addresses out of the depot into {@code to[offset …]}.
     *
     * @return false, having moved nothing, when the depot is empty
     */
    boolean take(long[] to, int offset) {
        long[] batch = full.poll();
        if (batch == null) {
            return false;
        }
        System.arraycopy(batch, 0, to, offset, batchSize);
        spares.offer(batch);
        return true;
    }

    /**
     * Takes every batch out and passes each address to {@code sink}: used when the allocator is dropped.
     *
     * @return how many addresses it passed
     */
    long drain(java.util.function.LongConsumer sink) {
        long drained = 0;
        for (long[] batch; (batch = full.poll()) != null; ) {
            for (long address : batch) {
                sink.accept(address);
            }
            drained += batch.length;
        }
        return drained;
    }

    /** @return addresses per batch */
    int batchSize() {
        return batchSize;
    }

    /** @return blocks held now, approximate while threads move batches */
    long blocks() {
        return (long) full.size() * batchSize;
    }

    /** @return the most batches held */
    int maxBatches() {
        return full.capacity();
    }
}
