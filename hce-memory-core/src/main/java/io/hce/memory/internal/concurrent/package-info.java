/**
 * Lock-free building blocks shared by the allocators.
 *
 * <h2>Memory-ordering rules</h2>
 * These rules are stated once, here; the classes refer to them by number. The cache and pool packages
 * build on them with rules of their own.
 * <ol>
 *   <li><b>Ring slots pass by sequence.</b> In an {@link io.hce.memory.internal.concurrent.MpmcSequence} a
 *       producer's plain store of an element happens-before a consumer's load of it: the producer publishes
 *       the slot with a release store of its sequence, and the consumer claims it only after an acquire
 *       load of that sequence; the consumer's release store hands the slot back for the next lap the same
 *       way. Indices move by CAS, so each index is claimed by exactly one thread. {@code LongRing},
 *       {@code StripedLongRing} and the cache package's {@code BatchRing} order nothing else: a striped
 *       ring is independent rings, each under this rule.</li>
 *   <li><b>One writer per thread-owned state.</b> A {@link io.hce.memory.internal.concurrent.ThreadOwned}
 *       and what it holds are written with plain stores by one thread at a time: its owning platform thread
 *       while that thread may run; then the table's end action, on the {@code Cleaner}'s thread, or on the
 *       thread that calls {@code endNow()} when the owner cannot be using the state (it has ended, or the
 *       engine's owner is unreachable, so no operation can be running). No code orders that hand-over: a
 *       thread's last action and the cleaning action that follows its collection are separated by the
 *       garbage collection that found the thread unreachable, as for every {@code Cleaner}. Meanwhile other
 *       threads read the owner's fields only with opaque loads (its counters: possibly a moment old, never
 *       torn), apart from {@code ownerId}, {@code retired} and the watch, which rules 3 to 5 cover.</li>
 *   <li><b>A thread table's slots are read racily.</b> {@code ThreadTable.get()} loads its slot with a
 *       plain load and needs no ordering: {@code ownerId} is final, so a thread that sees an entry sees its
 *       owner's id (JLS 17.5); only the thread with that id makes an entry carrying it, and thread ids are
 *       never reused. So an entry that matches the caller was made by the caller, in its own program order;
 *       a stale, foreign or newly published one fails the compare, and the caller's {@code ThreadLocal}
 *       serves instead.</li>
 *   <li><b>Slots change by CAS, for residency, not for safety.</b> An entry is installed only over an empty
 *       or retired one, and an end action clears a slot only if it still holds its own entry, so that
 *       neither a live thread's entry nor a newcomer's is pushed out. The {@code retired} flag is volatile,
 *       written once by the end action. By rule 3 any outcome of these races is correct: a lost CAS or a
 *       stale read of {@code retired} only costs a thread its fast path.</li>
 *   <li><b>An end action runs once.</b> A state's watch ({@code ThreadOwned.onThreadEnd}) is set by the
 *       owner once its entry is made, and read and cleared by {@code endNow()} on another thread; it is
 *       volatile, and {@code Cleanable.clean()} runs the action at most once, so an {@code endNow()} racing
 *       the {@code Cleaner} or another {@code endNow()} ends the state once. An {@code endNow()} that finds
 *       no watch yet does nothing: the engine retires such a state itself, under its lock
 *       ({@link io.hce.memory.internal.concurrent.LiveStates#endAll} hands those back to it).</li>
 * </ol>
 * The engines keep their live states in a {@link io.hce.memory.internal.concurrent.LiveStates}, guarded by the
 * engine's own lock (not by these rules): the caches' registry and the pool's ledger both do.
 */
package io.hce.memory.internal.concurrent;
