package io.hce.memory.internal.concurrent;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.atomic.AtomicInteger;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A thread's first call to a table whose slot for it holds another thread's entry, while that entry is
 * retired: the newcomer reads the slot racily and may find the entry live, retired, or gone, and may or may
 * not take the slot (rules 3 and 4 of the package documentation); whatever happens it must get its own
 * entry, made on its own thread. The other actor ends the foreign entry as the {@code Cleaner} would, and
 * its end action must run once (rule 5).
 *
 * <p>The foreign entry is made by a <em>neighbour</em>: a helper thread whose id shares the table slot of
 * the thread that builds the state, which is one of the two actor threads (jcstress builds most states on
 * them). That actor is the newcomer; the other ends the entry. A state built on any other thread has no
 * newcomer, and then both actors end the entry at once, which must still run the end action once.
 *
 * <p>Results: r1 = 1 if the newcomer got its own entry (0 if not, -1 with no newcomer), r2 = how many
 * times the end action ran, r3 = whether the ended entry is retired.
 */
@JCStressTest
@Outcome(id = "1, 1, 1", expect = ACCEPTABLE, desc = "the newcomer got its own entry; the foreign entry ended once")
@Outcome(id = "-1, 1, 1", expect = ACCEPTABLE, desc = "no newcomer: two threads ended the entry, and it ended once")
@Outcome(id = "0, .*", expect = FORBIDDEN, desc = "the newcomer got another thread's entry, or one made elsewhere")
@Outcome(expect = FORBIDDEN, desc = "the end action ran twice or never, or left the entry unretired")
@State
public class ThreadTableTest {

    /** ThreadTable's slot count: threads whose ids differ by a multiple of it share a slot. */
    static final int TABLE_SIZE = 256;

    private static final ThreadLocal<Neighbour> NEIGHBOUR = ThreadLocal.withInitial(Neighbour::new);

    private final AtomicInteger endActions = new AtomicInteger();
    private final ThreadTable<Entry> table = new ThreadTable<>(Entry::new, ended -> endActions.incrementAndGet());
    private final Thread newcomer = Thread.currentThread();
    private final Entry foreign = NEIGHBOUR.get().entryIn(table);
    private Entry own;

    @Actor
    public void actor1(III_Result r) {
        act(r);
    }

    @Actor
    public void actor2(III_Result r) {
        act(r);
    }

    private void act(III_Result r) {
        if (Thread.currentThread() == newcomer) {
            Entry entry = table.get();
            own = entry;
            r.r1 = entry.ownerId == newcomer.threadId() && entry.madeOn == newcomer && table.get() == entry ? 1 : 0;
        } else {
            foreign.endNow(); // its thread is done with it: it only made it
        }
    }

    @Arbiter
    public void check(III_Result r) {
        if (own == null) {
            r.r1 = -1;
        } else {
            own.endNow(); // the newcomer is done with the table: do not let its thread keep one watch per state
        }
        r.r2 = endActions.get() - (own == null ? 0 : 1);
        r.r3 = foreign.isRetired() ? 1 : 0;
    }

    static final class Entry extends ThreadOwned {

        final Thread madeOn = Thread.currentThread();

        Entry(long ownerId) {
            super(ownerId);
        }
    }

    /** A parked platform thread whose id shares a table slot with the thread that made it. */
    private static final class Neighbour {

        private final SynchronousQueue<FutureTask<Entry>> requests = new SynchronousQueue<>();

        Neighbour() {
            long id = Thread.currentThread().threadId();
            Thread thread;
            do {
                thread = Thread.ofPlatform().daemon().name("neighbour of " + id).unstarted(this::serve);
            } while ((thread.threadId() - id) % TABLE_SIZE != 0);
            thread.start();
        }

        /** @return the neighbour's entry in {@code table}, made on the neighbour, in its maker's slot */
        Entry entryIn(ThreadTable<Entry> table) {
            FutureTask<Entry> request = new FutureTask<>(table::get);
            try {
                requests.put(request);
                return request.get();
            } catch (InterruptedException | ExecutionException e) {
                throw new IllegalStateException(e);
            }
        }

        private void serve() {
            try {
                while (true) {
                    requests.take().run();
                }
            } catch (InterruptedException e) {
                // the VM is exiting
            }
        }
    }
}
