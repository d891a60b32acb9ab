/**
 * Lock-free building blocks shared by the allocators.
 *
 * <h2>Memory-ordering rules</h2>
 * {@link io.hce.memory.internal.concurrent.MpmcSequence} is the only place that orders threads here: a
 * producer's plain store of an element happens-before a consumer's load of it, because the producer
 * publishes the slot with a release store of its sequence and the consumer claims it only after an
 * acquire load of that sequence; the consumer's release store hands the slot back for the next lap the
 * same way. Indices move by CAS, so each index is claimed by exactly one thread.
 */
package io.hce.memory.internal.concurrent;
