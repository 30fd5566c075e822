// Map.getOrInsertComputed (TC39 "upsert", not in Node 20): the entry for `key`, made by
// `make` and stored the first time it is asked for.
export function entryOf<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
