// The tag types a site file may name: shared by src/config (the schema) and src/runtime (the
// values), so neither imports the other for them (issue 16).
export const TAG_TYPES = [
  'bool',
  'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
  'float32', 'float64',
  'string', 'bytes', 'datetime',
] as const;
export type TagType = (typeof TAG_TYPES)[number];
