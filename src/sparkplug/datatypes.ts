// Sparkplug B datatypes (spec 6.4.16) and which protobuf value field each travels in.
import type { TagType } from '../runtime/types.js';

export const DataType = {
  Unknown: 0,
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
  UUID: 15,
  DataSet: 16,
  Bytes: 17,
  File: 18,
  Template: 19,
  Int8Array: 22,
  Int16Array: 23,
  Int32Array: 24,
  Int64Array: 25,
  UInt8Array: 26,
  UInt16Array: 27,
  UInt32Array: 28,
  UInt64Array: 29,
  FloatArray: 30,
  DoubleArray: 31,
  BooleanArray: 32,
  StringArray: 33,
  DateTimeArray: 34,
} as const;

export type DataTypeName = keyof typeof DataType;
export type DataTypeCode = (typeof DataType)[DataTypeName];

const FROM_TAG: Record<TagType, DataTypeCode> = {
  bool: DataType.Boolean,
  int8: DataType.Int8,
  uint8: DataType.UInt8,
  int16: DataType.Int16,
  uint16: DataType.UInt16,
  int32: DataType.Int32,
  uint32: DataType.UInt32,
  int64: DataType.Int64,
  uint64: DataType.UInt64,
  float32: DataType.Float,
  float64: DataType.Double,
  string: DataType.String,
  bytes: DataType.Bytes,
  datetime: DataType.DateTime,
};

/** The Sparkplug datatype of a tag's reported value (see runtime/scaling `reportedType`). */
export function dataTypeOfTag(type: TagType): DataTypeCode {
  return FROM_TAG[type];
}

export type ValueField = 'intValue' | 'longValue' | 'floatValue' | 'doubleValue' | 'booleanValue' | 'stringValue' | 'bytesValue';

/**
 * The protobuf field for a datatype (spec 6.4.16 table). UInt32 goes in long_value: the
 * 3.0.0 TCK requires it there and later TCKs accept either; our decoder reads both.
 */
export function valueField(type: DataTypeCode): ValueField | undefined {
  switch (type) {
    case DataType.Int8:
    case DataType.Int16:
    case DataType.Int32:
    case DataType.UInt8:
    case DataType.UInt16:
      return 'intValue';
    case DataType.UInt32:
    case DataType.Int64:
    case DataType.UInt64:
    case DataType.DateTime:
      return 'longValue';
    case DataType.Float:
      return 'floatValue';
    case DataType.Double:
      return 'doubleValue';
    case DataType.Boolean:
      return 'booleanValue';
    case DataType.String:
    case DataType.Text:
    case DataType.UUID:
      return 'stringValue';
    default:
      return type >= DataType.Int8Array && type <= DataType.DateTimeArray || type === DataType.Bytes || type === DataType.File ? 'bytesValue' : undefined;
  }
}

export function isArrayType(type: DataTypeCode): boolean {
  return type >= DataType.Int8Array && type <= DataType.DateTimeArray;
}
