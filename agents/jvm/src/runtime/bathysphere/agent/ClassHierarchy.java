package bathysphere.agent;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Superclass relationships needed to compute stack map frames, read from class files through
 * the defining loader's resources. Classes are never loaded (loading from a transformer would
 * run static initialisers early or through the wrong loader), and the header is parsed by hand
 * so class files newer than the bundled ASM can be read too.
 */
final class ClassHierarchy {
    static final class ClassInfo {
        final String superName;
        final boolean isInterface;

        ClassInfo(String superName, boolean isInterface) {
            this.superName = superName;
            this.isInterface = isInterface;
        }
    }

    private static final ClassInfo OBJECT = new ClassInfo(null, false);
    private final ClassLoader loader;
    private final Map<String, ClassInfo> known = new ConcurrentHashMap<>();

    ClassHierarchy(ClassLoader loader) {
        this.loader = loader;
        known.put("java/lang/Object", OBJECT);
    }

    /** Registers the class being instrumented (its bytes may not be loadable as a resource). */
    void add(String name, String superName, boolean isInterface) {
        known.put(name, new ClassInfo(superName, isInterface));
    }

    /** Nearest common superclass; interfaces merge to Object as the verifier treats them. */
    String commonSuperClass(String a, String b) {
        if (a.equals(b)) return a;
        if (a.startsWith("[") || b.startsWith("[")) return "java/lang/Object";
        ClassInfo infoA = info(a);
        ClassInfo infoB = info(b);
        if (infoA.isInterface || infoB.isInterface) return "java/lang/Object";
        Set<String> ancestorsOfA = new HashSet<>();
        for (String t = a; t != null; t = info(t).superName) ancestorsOfA.add(t);
        for (String t = b; t != null; t = info(t).superName) {
            if (ancestorsOfA.contains(t)) return t;
        }
        return "java/lang/Object";
    }

    ClassInfo info(String name) {
        ClassInfo cached = known.get(name);
        if (cached != null) return cached;
        ClassInfo read = read(name);
        known.put(name, read);
        return read;
    }

    private ClassInfo read(String name) {
        String resource = name + ".class";
        try (InputStream in =
                loader != null
                        ? loader.getResourceAsStream(resource)
                        : ClassLoader.getSystemResourceAsStream(resource)) {
            if (in == null) throw new TypeNotPresentException(name.replace('/', '.'), null);
            return parseHeader(in.readAllBytes());
        } catch (IOException e) {
            throw new TypeNotPresentException(name.replace('/', '.'), e);
        }
    }

    /** Reads access flags and super class name, skipping the constant pool entry by entry. */
    static ClassInfo parseHeader(byte[] bytes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        if (in.readInt() != 0xCAFEBABE) throw new IOException("not a class file");
        in.readUnsignedShort();
        in.readUnsignedShort();
        int count = in.readUnsignedShort();
        List<Object> pool = new ArrayList<>(count);
        pool.add(null);
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1: pool.add(in.readUTF()); break;
                case 7: pool.add(in.readUnsignedShort()); break; // class -> name index
                case 3: case 4: in.readInt(); pool.add(null); break;
                case 5: case 6: in.readLong(); pool.add(null); pool.add(null); i++; break;
                case 8: case 16: case 19: case 20: in.readUnsignedShort(); pool.add(null); break;
                case 9: case 10: case 11: case 12: case 17: case 18:
                    in.readInt(); pool.add(null); break;
                case 15: in.readUnsignedByte(); in.readUnsignedShort(); pool.add(null); break;
                default: throw new IOException("unknown constant pool tag " + tag);
            }
        }
        int access = in.readUnsignedShort();
        in.readUnsignedShort(); // this class
        int superIndex = in.readUnsignedShort();
        String superName = superIndex == 0 ? null : (String) pool.get((Integer) pool.get(superIndex));
        return new ClassInfo(superName, (access & 0x0200) != 0);
    }
}
