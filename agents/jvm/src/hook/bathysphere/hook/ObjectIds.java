package bathysphere.hook;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;

/**
 * A weak identity map from objects to unique, never reused ids. identityHashCode is used only
 * to pick a bucket; two objects with equal hash codes still get different ids. Entries whose
 * object was collected are purged as the map is used, so memory stays proportional to live
 * objects that were recorded.
 */
final class ObjectIds {
    private static final int SEGMENTS = 16;

    /** An object's id; also the per-thread cache entry (it refers weakly to the object). */
    static final class Entry extends WeakReference<Object> {
        final int hash;
        final long id;
        Entry next;

        Entry(Object referent, int hash, long id, ReferenceQueue<Object> queue) {
            super(referent, queue);
            this.hash = hash;
            this.id = id;
        }
    }

    private final Segment[] segments = new Segment[SEGMENTS];

    ObjectIds() {
        for (int i = 0; i < SEGMENTS; i++) segments[i] = new Segment(i);
    }

    /** Returns the entry for the object, creating it (with a fresh id) if needed. */
    Entry entryFor(Object object, int hash) {
        return segments[(hash ^ (hash >>> 16)) & (SEGMENTS - 1)].entryFor(object, hash);
    }

    /** One lock-striped part of the map; ids are segment + SEGMENTS * counter, so unique. */
    private static final class Segment {
        private final ReferenceQueue<Object> collected = new ReferenceQueue<>();
        private final int segmentIndex;
        private Entry[] table = new Entry[256];
        private int size;
        private long counter = 1;

        Segment(int segmentIndex) {
            this.segmentIndex = segmentIndex;
        }

        synchronized Entry entryFor(Object object, int hash) {
            int slot = hash & (table.length - 1);
            for (Entry e = table[slot]; e != null; e = e.next) {
                if (e.hash == hash && e.get() == object) return e;
            }
            purgeCollected();
            if (size >= table.length * 3 / 4) grow();
            slot = hash & (table.length - 1);
            Entry created = new Entry(object, hash, segmentIndex + SEGMENTS * counter++, collected);
            created.next = table[slot];
            table[slot] = created;
            size++;
            return created;
        }

        private void purgeCollected() {
            Object dead;
            while ((dead = collected.poll()) != null) {
                Entry gone = (Entry) dead;
                int slot = gone.hash & (table.length - 1);
                Entry previous = null;
                for (Entry e = table[slot]; e != null; previous = e, e = e.next) {
                    if (e == gone) {
                        if (previous == null) table[slot] = e.next;
                        else previous.next = e.next;
                        size--;
                        break;
                    }
                }
            }
        }

        private void grow() {
            Entry[] bigger = new Entry[table.length * 2];
            for (Entry head : table) {
                for (Entry e = head; e != null; ) {
                    Entry following = e.next;
                    int slot = e.hash & (bigger.length - 1);
                    e.next = bigger[slot];
                    bigger[slot] = e;
                    e = following;
                }
            }
            table = bigger;
        }
    }
}
