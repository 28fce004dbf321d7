// The API's scopes and what each one grants: one table, read by the verifier, the route hook and token create.

/**
 * What each scope grants, itself included. Kubernetes-like roles: `ops:write` (edit) includes
 * `ops:read` (view), `ops:admin` includes both. `agent` stands alone and no other scope includes
 * it: an agent's token cannot call the API, and a person's token cannot open an agent link.
 */
export const scopeGrants = {
  'ops:read': ['ops:read'],
  'ops:write': ['ops:write', 'ops:read'],
  'ops:admin': ['ops:admin', 'ops:write', 'ops:read'],
  agent: ['agent'],
} as const satisfies Record<string, readonly string[]>;

export type Scope = keyof typeof scopeGrants;

export const scopes = Object.keys(scopeGrants) as Scope[];

export function isScope(value: string): value is Scope {
  return Object.hasOwn(scopeGrants, value);
}

/**
 * Whether a token holding `held` may do what `required` guards.
 * @example hasScope(['ops:write'], 'ops:read') // true
 */
export function hasScope(held: readonly Scope[], required: Scope): boolean {
  return held.some((s) => (scopeGrants[s] as readonly Scope[]).includes(required));
}

/**
 * The scopes of a claims set: `scope` (a space-separated string, RFC 8693) and `scp` (an array of
 * strings, or one string), merged. Unknown scopes are ignored so a token minted for a newer server
 * still works here. Undefined when a claim has the wrong type (the token is then invalid).
 */
export function scopesFromClaims(claims: { scope?: unknown; scp?: unknown }): Scope[] | undefined {
  const found: string[] = [];
  if (claims.scope !== undefined) {
    if (typeof claims.scope !== 'string') return undefined;
    found.push(...claims.scope.split(' '));
  }
  if (claims.scp !== undefined) {
    const list: unknown = typeof claims.scp === 'string' ? claims.scp.split(' ') : claims.scp;
    if (!Array.isArray(list) || !list.every((s): s is string => typeof s === 'string')) return undefined;
    found.push(...list);
  }
  return [...new Set(found)].filter(isScope);
}
