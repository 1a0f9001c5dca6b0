// One string for a value, whole: what equality matchers overlook or choke on, spelled out.

/**
 * A value spelled out whole: types, key order, holes, BigInts, NaN and -0, Set and byte contents,
 * and each object's prototype (an item's `__proto__` attribute sets it, in the SDK's reading and
 * ours), which equality matchers do not all look at, or choke on when it is a Set.
 */
export function spelled(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value !== 'object') return `${typeof value}:${JSON.stringify(value)}`;
  if (value instanceof Uint8Array && Object.getPrototypeOf(value) === Uint8Array.prototype)
    return `bytes[${[...value].join(',')}]`;
  if (value instanceof Set && Object.getPrototypeOf(value) === Set.prototype)
    return `Set{${[...value].map(spelled).join(',')}}`;
  if (Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype) {
    return `[${Array.from({ length: value.length }, (_, i) => (i in value ? spelled(value[i]) : 'hole')).join(',')}]`;
  }
  const prototype = Object.getPrototypeOf(value);
  const kind = prototype === Object.prototype ? 'Object' : `proto(${spelled(prototype)})`;
  const entries = Object.keys(value).map(
    (key) => `${JSON.stringify(key)}:${spelled((value as Record<string, unknown>)[key])}`,
  );
  return `${kind}{${entries.join(',')}}`;
}
