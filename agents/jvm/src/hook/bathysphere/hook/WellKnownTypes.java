package bathysphere.hook;

/**
 * The immutable JDK types whose value travels with an object's first use in a thread's stream
 * (docs/jvm-trace-format.md, {@code ref}): String and the eight boxes of primitives. Their type
 * ids are fixed and declared in the run header, so a consumer knows them before any other
 * declaration and the recorder tells them from every other type with one comparison. All nine
 * classes are final: the exact class is the type, no subclass can carry other state.
 */
public final class WellKnownTypes {
    public static final int STRING = 1;
    public static final int BOOLEAN = 2;
    public static final int CHARACTER = 3;
    public static final int BYTE = 4;
    public static final int SHORT = 5;
    public static final int INTEGER = 6;
    public static final int LONG = 7;
    public static final int FLOAT = 8;
    public static final int DOUBLE = 9;
    /** Ids up to this one are well known; the agent hands out the following ids to other types. */
    public static final int LAST = DOUBLE;

    /** The class of each well-known id (index = id). */
    private static final Class<?>[] CLASSES = {
        null,
        String.class,
        Boolean.class,
        Character.class,
        Byte.class,
        Short.class,
        Integer.class,
        Long.class,
        Float.class,
        Double.class,
    };

    private WellKnownTypes() {}

    /** The well-known id of exactly this class (compared by identity), or 0. */
    public static int idOf(Class<?> type) {
        for (int id = 1; id <= LAST; id++) {
            if (CLASSES[id] == type) return id;
        }
        return 0;
    }

    /** The class with a well-known id (1 to {@link #LAST}). */
    public static Class<?> classOf(int id) {
        return CLASSES[id];
    }
}
