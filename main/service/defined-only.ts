// Options pass from layer to layer (setup -> controller -> engine) by spread.
// With exactOptionalPropertyTypes an option may be absent but not undefined,
// so what a caller left out must stay out rather than arrive as `undefined`.

/** `options` without the keys whose value is undefined. */
export function definedOnly<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T;
}
