export interface Match<T> {
  value: T;
  params: Record<string, string>;
}

interface Route<T> {
  method: string;
  pattern: RegExp;
  names: string[];
  value: T;
}

/**
 * A small router for `METHOD /path/:param` keys: literal segments match exactly, `:name` one
 * segment, a trailing `*` the rest. Tells "no such path" (404) from "wrong method" (405).
 */
export class Router<T> {
  readonly #routes: Route<T>[] = [];

  add(key: string, value: T): void {
    const match = /^([A-Z]+|\*)\s+(\/\S*)$/.exec(key.trim());
    if (!match) throw new Error(`route "${key}" must look like "GET /users/:id"`);
    const names: string[] = [];
    const source = match[2]!
      .split('/')
      .map((segment) => {
        if (segment === '*') {
          names.push('*');
          return '(.*)';
        }
        if (segment.startsWith(':')) {
          names.push(segment.slice(1));
          return '([^/]+)';
        }
        return segment.replace(/[.+?^${}()|[\]\\*]/g, '\\$&');
      })
      .join('/');
    this.#routes.push({ method: match[1]!, pattern: new RegExp(`^${source}/?$`), names, value });
  }

  find(method: string, path: string): Match<T> | 'method-not-allowed' | undefined {
    let pathMatched = false;
    for (const route of this.#routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== '*' && route.method !== method && !(method === 'HEAD' && route.method === 'GET'))
        continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(m[i + 1]!);
        } catch {
          params[name] = m[i + 1]!;
        }
      });
      return { value: route.value, params };
    }
    return pathMatched ? 'method-not-allowed' : undefined;
  }
}
