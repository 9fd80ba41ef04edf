// Constants of the JVM agent's wire/file format (docs/jvm-trace-format.md). They mirror
// agents/jvm/src/hook/bathysphere/hook/TraceRecorder.java and the agent's Declarations and
// TraceWriter; a change on one side must be made on the other.

export const MAGIC = [0x42, 0x53, 0x54, 0x52]; // "BSTR"
/**
 * The only version the decoders read; a stream of any other version is refused as a whole
 * (an 'unsupported-version' error, nothing decoded): version 1 gave the line range 0x80-0xff
 * to LINE, version 2 gives 0xe0-0xff to READ_LOCAL_AS_WRITTEN, version 3 adds BigDecimal and
 * BigInteger to the well-known types and an array's length to its declaring use.
 */
export const FORMAT_VERSION = 3;

export enum Chunk {
  Declarations = 1,
  Events = 2,
  End = 3,
}

export const EVENTS_FLAG_TAIL = 1;

export enum Decl {
  Class = 0x01,
  Method = 0x02,
  Field = 0x03,
  Type = 0x04,
  Thread = 0x05,
  Warning = 0x06,
  Run = 0x07,
}

export const METHOD_STATIC = 1;
export const METHOD_LINES_ONLY = 2;

export enum Tag {
  Enter = 0x01,
  Return = 0x02,
  ThrowExit = 0x03,
  Caught = 0x04,
  LineExt = 0x05,
  LineAfterCall = 0x06,
  BranchExt = 0x07,
  ReadLocalExt = 0x08,
  WriteLocalExt = 0x09,
  ReadField = 0x0a,
  WriteField = 0x0b,
  ReadStatic = 0x0c,
  WriteStatic = 0x0d,
  ReadArray = 0x0e, // + kind
  WriteArray = 0x13, // + kind
  Gap = 0x18,
  ReadLocalAsWrittenExt = 0x19,
  Branch = 0x20, // | index (0..31)
  ReadLocal = 0x40, // | variable (0..31)
  WriteLocal = 0x60, // | variable (0..31)
  Line = 0x80, // + line index (0..95)
  /** A local read without value: the value of the frame's last write of the variable. */
  ReadLocalAsWritten = 0xe0, // | variable (0..31)
}

/** Value of a READ_LOCAL_AS_WRITTEN whose variable has no write in the frame (after a GAP). */
export const UNKNOWN_LOCAL_VALUE = '<unknown>';

/** Value kinds; array events carry the kind in the tag. */
export enum Kind {
  Int = 0,
  Long = 1,
  Float = 2,
  Double = 3,
  Ref = 4,
}

/**
 * Type ids the agent reserves, declared in the run header, for the immutable JDK types whose
 * first use in a thread's stream carries the value: String and the boxes of primitives. Mirrors
 * the agent's WellKnownTypes.
 */
export enum WellKnownType {
  String = 1,
  Boolean = 2,
  Character = 3,
  Byte = 4,
  Short = 5,
  Integer = 6,
  Long = 7,
  Float = 8,
  Double = 9,
  /** Carries its decimal text, capped like a string. */
  BigDecimal = 10,
  /** Carries its decimal text, capped like a string (a huge one: its size in bits). */
  BigInteger = 11,
}

/** Type ids up to this one are well known (WellKnownType). */
export const LAST_WELL_KNOWN_TYPE = WellKnownType.BigInteger;
