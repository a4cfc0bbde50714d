package org.restorerwkv.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.restorerwkv.io.InvalidInputException;

/**
 * A pickle reader (protocols 2-5) that executes nothing: it knows the data opcodes, and hands
 * every global, call and persistent id to a {@link Host}, which decides what may be built.
 *
 * <p>Values: Python ints are {@link Long}, floats {@link Double}, str {@link String}, bytes
 * {@code byte[]}, bool {@link Boolean}, None {@link #NONE}, list {@link ArrayList}, tuple an
 * unmodifiable {@link List}, dict {@link LinkedHashMap} (insertion order kept). Opcodes that need
 * code execution beyond the host's globals (INST, OBJ, EXT*, NEWOBJ_EX, the text protocol 0
 * opcodes) are rejected by name.
 */
final class Unpickler {

    /** Python's None (collections here cannot hold null). */
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    /** Decides what the pickle may build. */
    interface Host {
        /** The object a GLOBAL / STACK_GLOBAL names; throws for anything not allowed. */
        Object global(String module, String name) throws InvalidInputException;

        /** REDUCE and NEWOBJ: {@code callable(*args)}. */
        Object call(Object callable, List<Object> args) throws InvalidInputException;

        /** BUILD: applies {@code state} to {@code obj}; returns the object left on the stack. */
        Object build(Object obj, Object state) throws InvalidInputException;

        /** BINPERSID: the object a persistent id stands for. */
        Object persistentLoad(Object pid) throws InvalidInputException;
    }

    private static final Object MARK = new Object();
    private static final Map<Integer, String> NAMES = opcodeNames();

    private final ByteBuffer in;
    private final Path file;
    private final Host host;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private Unpickler(byte[] data, Path file, Host host) {
        this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        this.file = file;
        this.host = host;
    }

    /** Reads one pickle from {@code data}; {@code file} names the source in error messages. */
    static Object load(byte[] data, Path file, Host host) throws InvalidInputException {
        return new Unpickler(data, file, host).run();
    }

    private Object run() throws InvalidInputException {
        while (true) {
            if (!in.hasRemaining()) {
                throw error("truncated pickle: no STOP opcode");
            }
            int at = in.position();
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8();
                    if (proto > 5) {
                        throw error("unsupported pickle protocol " + proto);
                    }
                }
                case 0x95 -> { // FRAME: a length hint only
                    long len = in.remaining() >= 8 ? in.getLong() : -1;
                    if (len < 0 || len > in.remaining()) {
                        throw error("truncated pickle: frame of " + len + " bytes at byte " + at);
                    }
                }
                case '.' -> { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw error("malformed pickle: " + stack.size() + " values left at STOP");
                    }
                    Object result = stack.get(0);
                    if (result == MARK) {
                        throw error("malformed pickle: MARK left at STOP");
                    }
                    return result;
                }
                case '(' -> { // MARK
                    marks.add(stack.size());
                    stack.add(MARK);
                }
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(peek()); // DUP
                case 'N' -> push(NONE);
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'J' -> push((long) i32()); // BININT
                case 'K' -> push((long) u8()); // BININT1
                case 'M' -> push((long) u16()); // BININT2
                case 0x8a -> push(longN(u8())); // LONG1
                case 0x8b -> push(longN(length(i32()))); // LONG4
                case 'G' -> { // BINFLOAT, big-endian
                    need(8);
                    push(Double.longBitsToDouble(Long.reverseBytes(in.getLong())));
                }
                case 'X' -> push(utf8(length(i32() & 0xffffffffL))); // BINUNICODE
                case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(length(i64()))); // BINUNICODE8
                case 'T' -> push(latin1(length(i32()))); // BINSTRING (Python 2 str)
                case 'U' -> push(latin1(u8())); // SHORT_BINSTRING
                case 'B' -> push(bytes(length(i32() & 0xffffffffL))); // BINBYTES
                case 'C' -> push(bytes(u8())); // SHORT_BINBYTES
                case 0x8e -> push(bytes(length(i64()))); // BINBYTES8
                case ')' -> push(List.of()); // EMPTY_TUPLE
                case 't' -> push(List.copyOf(popMark())); // TUPLE
                case 0x85 -> push(List.of(pop())); // TUPLE1
                case 0x86 -> { // TUPLE2
                    Object b = pop();
                    Object a = pop();
                    push(List.of(a, b));
                }
                case 0x87 -> { // TUPLE3
                    Object c = pop();
                    Object b = pop();
                    Object a = pop();
                    push(List.of(a, b, c));
                }
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case 'l' -> push(new ArrayList<>(popMark())); // LIST
                case 'a' -> { // APPEND
                    Object v = pop();
                    asList(peek(), "APPEND").add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    asList(peek(), "APPENDS").addAll(items);
                }
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case 'd' -> { // DICT
                    Map<Object, Object> m = new LinkedHashMap<>();
                    putPairs(m, popMark());
                    push(m);
                }
                case 's' -> { // SETITEM
                    Object v = pop();
                    Object k = pop();
                    asMap(peek(), "SETITEM").put(hashable(k), v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    putPairs(asMap(peek(), "SETITEMS"), items);
                }
                case 'q' -> memo.put((long) u8(), peek()); // BINPUT
                case 'r' -> memo.put(i32() & 0xffffffffL, peek()); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
                case 'h' -> push(memoGet(u8())); // BINGET
                case 'j' -> push(memoGet(i32() & 0xffffffffL)); // LONG_BINGET
                case 'c' -> { // GLOBAL "module\nname\n"
                    String module = line();
                    String name = line();
                    push(host.global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("malformed pickle: STACK_GLOBAL needs two strings");
                    }
                    push(host.global(m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    push(host.call(callable, asTuple(args, "REDUCE")));
                }
                case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args)
                    Object args = pop();
                    Object cls = pop();
                    push(host.call(cls, asTuple(args, "NEWOBJ")));
                }
                case 'b' -> { // BUILD
                    Object state = pop();
                    Object obj = pop();
                    push(host.build(obj, state));
                }
                case 'Q' -> push(host.persistentLoad(pop())); // BINPERSID
                default -> throw error("unsupported pickle opcode " + NAMES.getOrDefault(op, "unknown")
                        + String.format(" (0x%02x) at byte %d", op, at));
            }
        }
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() throws InvalidInputException {
        Object o = peek();
        stack.remove(stack.size() - 1);
        return o;
    }

    private Object peek() throws InvalidInputException {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw error("malformed pickle: stack underflow at byte " + (in.position() - 1));
        }
        return stack.get(stack.size() - 1);
    }

    /** Pops everything above the topmost MARK, and the MARK. */
    private List<Object> popMark() throws InvalidInputException {
        if (marks.isEmpty()) {
            throw error("malformed pickle: no MARK at byte " + (in.position() - 1));
        }
        int m = marks.remove(marks.size() - 1);
        List<Object> top = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        return top;
    }

    private Object memoGet(long key) throws InvalidInputException {
        Object o = memo.get(key);
        if (o == null) {
            throw error("malformed pickle: memo entry " + key + " was never stored");
        }
        return o;
    }

    private void putPairs(Map<Object, Object> m, List<Object> items) throws InvalidInputException {
        if (items.size() % 2 != 0) {
            throw error("malformed pickle: odd number of dict items");
        }
        for (int i = 0; i < items.size(); i += 2) {
            m.put(hashable(items.get(i)), items.get(i + 1));
        }
    }

    /**
     * Dict keys are limited to scalars and tuples of scalars, as Python's hashable ones; a list
     * key (which could contain itself) would otherwise make hashing recurse without end.
     */
    private Object hashable(Object k) throws InvalidInputException {
        if (isScalar(k)) {
            return k;
        }
        if (k instanceof List<?> t && !(k instanceof ArrayList<?>) && t.stream().allMatch(Unpickler::isScalar)) {
            return k;
        }
        throw error("malformed pickle: unsupported dict key of type " + typeName(k));
    }

    private static boolean isScalar(Object o) {
        return o instanceof String || o instanceof Long || o instanceof Double || o instanceof Boolean || o == NONE;
    }

    @SuppressWarnings("unchecked")
    private List<Object> asList(Object o, String op) throws InvalidInputException {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw error("malformed pickle: " + op + " on a " + typeName(o));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> asMap(Object o, String op) throws InvalidInputException {
        if (o instanceof LinkedHashMap<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw error("malformed pickle: " + op + " on a " + typeName(o));
    }

    @SuppressWarnings("unchecked")
    private List<Object> asTuple(Object o, String op) throws InvalidInputException {
        if (o instanceof List<?> l && !(o instanceof ArrayList<?>)) {
            return (List<Object>) l;
        }
        throw error("malformed pickle: " + op + " arguments are a " + typeName(o) + ", not a tuple");
    }

    static String typeName(Object o) {
        if (o == NONE) {
            return "None";
        }
        if (o instanceof ArrayList<?>) {
            return "list";
        }
        if (o instanceof List<?>) {
            return "tuple";
        }
        if (o instanceof Map<?, ?>) {
            return "dict";
        }
        return o == null ? "null" : o.getClass().getSimpleName();
    }

    private void need(long n) throws InvalidInputException {
        if (n > in.remaining()) {
            throw error("truncated pickle: needs " + n + " more bytes at byte " + in.position()
                    + ", " + in.remaining() + " left");
        }
    }

    private int u8() throws InvalidInputException {
        need(1);
        return in.get() & 0xff;
    }

    private int u16() throws InvalidInputException {
        need(2);
        return in.getShort() & 0xffff;
    }

    private int i32() throws InvalidInputException {
        need(4);
        return in.getInt();
    }

    private long i64() throws InvalidInputException {
        need(8);
        return in.getLong();
    }

    /** A length read from the pickle, checked against the bytes that remain. */
    private int length(long n) throws InvalidInputException {
        if (n < 0) {
            throw error("malformed pickle: negative length " + n);
        }
        need(n);
        return (int) n;
    }

    /** Two's-complement little-endian integer of n bytes (LONG1/LONG4); at most 8 bytes fit. */
    private Long longN(int n) throws InvalidInputException {
        need(n);
        if (n > 8) {
            throw error("pickle integer of " + n + " bytes is too large");
        }
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (in.get() & 0xffL) << (8 * i);
        }
        if (n > 0 && n < 8) {
            int shift = 64 - 8 * n;
            v = (v << shift) >> shift;
        }
        return v;
    }

    private byte[] bytes(int n) throws InvalidInputException {
        need(n);
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }

    private String utf8(int n) throws InvalidInputException {
        byte[] b = bytes(n);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b))
                    .toString();
        } catch (CharacterCodingException e) {
            throw error("malformed pickle: invalid UTF-8 string");
        }
    }

    private String latin1(int n) throws InvalidInputException {
        return new String(bytes(n), StandardCharsets.ISO_8859_1);
    }

    /** A newline-terminated ASCII line (GLOBAL's operands). */
    private String line() throws InvalidInputException {
        int start = in.position();
        for (int i = start; i < in.limit(); i++) {
            if (in.get(i) == '\n') {
                byte[] b = new byte[i - start];
                in.get(b);
                in.get();
                return new String(b, StandardCharsets.ISO_8859_1);
            }
        }
        throw error("truncated pickle: unterminated GLOBAL name");
    }

    private InvalidInputException error(String problem) {
        return new InvalidInputException(file, problem);
    }

    private static Map<Integer, String> opcodeNames() {
        Map<Integer, String> m = new HashMap<>();
        String[] pairs = {
            "(MARK", ".STOP", "0POP", "1POP_MARK", "2DUP", "FFLOAT", "IINT", "JBININT", "KBININT1", "LLONG",
            "MBININT2", "NNONE", "PPERSID", "QBINPERSID", "RREDUCE", "SSTRING", "TBINSTRING", "USHORT_BINSTRING",
            "VUNICODE", "XBINUNICODE", "aAPPEND", "bBUILD", "cGLOBAL", "dDICT", "}EMPTY_DICT", "eAPPENDS", "gGET",
            "hBINGET", "iINST", "jLONG_BINGET", "lLIST", "]EMPTY_LIST", "oOBJ", "pPUT", "qBINPUT", "rLONG_BINPUT",
            "sSETITEM", "tTUPLE", ")EMPTY_TUPLE", "uSETITEMS", "GBINFLOAT", "BBINBYTES", "CSHORT_BINBYTES"
        };
        for (String p : pairs) {
            m.put((int) p.charAt(0), p.substring(1));
        }
        String[] high = {
            "PROTO", "NEWOBJ", "EXT1", "EXT2", "EXT4", "TUPLE1", "TUPLE2", "TUPLE3", "NEWTRUE", "NEWFALSE",
            "LONG1", "LONG4", "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES8", "EMPTY_SET", "ADDITEMS",
            "FROZENSET", "NEWOBJ_EX", "STACK_GLOBAL", "MEMOIZE", "FRAME", "BYTEARRAY8", "NEXT_BUFFER",
            "READONLY_BUFFER"
        };
        for (int i = 0; i < high.length; i++) {
            m.put(0x80 + i, high[i]);
        }
        return m;
    }
}
