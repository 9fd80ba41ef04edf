package bathysphere.hook;

/**
 * The immutable JDK types whose value travels with an object's first use in a thread's stream
 * (docs/jvm-trace-format.md, {@code ref}): String, the eight boxes of primitives, BigDecimal and
 * BigInteger. Their type ids are fixed and declared in the run header, so a consumer knows them
 * before any other declaration and the recorder tells them from every other type with one
 * comparison. A type is matched by the object's exact class: a subclass (BigDecimal and
 * BigInteger are not final) is an ordinary object, so no overriding code is ever called.
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
    public static final int BIG_DECIMAL = 10;
    public static final int BIG_INTEGER = 11;
    /** Ids up to this one are well known; the agent hands out the following ids to other types. */
    public static final int LAST = BIG_INTEGER;

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
        java.math.BigDecimal.class,
        java.math.BigInteger.class,
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
