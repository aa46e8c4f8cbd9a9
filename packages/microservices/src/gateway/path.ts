/**
 * Normalises a request path for routing: percent-decodes each segment, drops `.` and empty
 * segments, and rejects what could smuggle a different path past the router: `..` (raw or
 * encoded; clients resolve dot-segments before sending, so one arriving here is an attempt to
 * climb out of a route), encoded slashes or backslashes, NUL and bad escapes. Returns the segments,
 * or a reason for a 400.
 */
export function normalizePath(rawPath: string): { segments: string[] } | { error: string } {
  if (!rawPath.startsWith('/')) return { error: 'the request target must be an absolute path' };
  const segments: string[] = [];
  for (const raw of rawPath.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = raw.includes('%') ? decodeURIComponent(raw) : raw;
    } catch {
      return { error: 'the path has a malformed percent-escape' };
    }
    if (/[/\\\0]/.test(segment)) return { error: 'the path has an encoded slash, backslash or NUL' };
    if (segment === '.') continue;
    if (segment === '..') return { error: 'the path contains a ".." segment (path traversal)' };
    segments.push(segment);
  }
  return { segments };
}

// Characters a path segment may carry unescaped (RFC 3986 pchar minus '%').
const SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]*$/;

/** Joins decoded segments back into a path, escaping what must be escaped. */
export function joinSegments(segments: readonly string[]): string {
  let out = '';
  for (const segment of segments) out += `/${SAFE.test(segment) ? segment : encodeURIComponent(segment)}`;
  return out || '/';
}
