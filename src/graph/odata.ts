/**
 * The one place ids enter Graph URLs. OData string keys are quoted with '' for ', then the
 * whole key is percent-encoded; plain ids (which may contain ':') are percent-encoded.
 */
export function odataKey(value: string): string {
  return encodeURIComponent(`'${value.replace(/'/g, "''")}'`);
}

export function pathId(value: string): string {
  return encodeURIComponent(value);
}

/** A string literal inside $filter: quoted and escaped, to be placed in a URLSearchParams value. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
