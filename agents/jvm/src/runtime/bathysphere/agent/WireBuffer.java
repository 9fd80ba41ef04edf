package bathysphere.agent;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable byte buffer with the wire format's primitive encodings (varints, strings). */
final class WireBuffer {
    private byte[] bytes;
    private int size;

    WireBuffer(int capacity) {
        bytes = new byte[Math.max(16, capacity)];
    }

    int size() {
        return size;
    }

    byte[] array() {
        return bytes;
    }

    void clear() {
        size = 0;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(bytes, size);
    }

    WireBuffer u8(int value) {
        ensure(1);
        bytes[size++] = (byte) value;
        return this;
    }

    WireBuffer varint(long value) {
        ensure(10);
        while ((value & ~0x7FL) != 0) {
            bytes[size++] = (byte) (value | 0x80);
            value >>>= 7;
        }
        bytes[size++] = (byte) value;
        return this;
    }

    /** A string: varint byte length + UTF-8 bytes. */
    WireBuffer string(String text) {
        byte[] utf8 = (text == null ? "" : text).getBytes(StandardCharsets.UTF_8);
        varint(utf8.length);
        return raw(utf8, 0, utf8.length);
    }

    WireBuffer raw(byte[] source, int offset, int length) {
        ensure(length);
        System.arraycopy(source, offset, bytes, size, length);
        size += length;
        return this;
    }

    private void ensure(int extra) {
        if (size + extra > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + extra));
        }
    }
}
