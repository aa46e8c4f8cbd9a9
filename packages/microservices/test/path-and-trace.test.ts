import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinSegments, normalizePath } from '../src/gateway/path.js';
import { childTraceparent, requestIdFrom } from '../src/internal/trace-context.js';

describe('gateway path normalisation (property)', () => {
  const segment = fc.oneof(
    fc.constantFrom('..', '.', '%2e%2e', '%2E%2e', '%2f', '%5c', '%00', '%zz', 'a', 'b c', 'ü', '%41', ''),
    fc.string({ maxLength: 6 }),
  );

  it('never yields a segment that climbs, or hides a slash, backslash or NUL', () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (parts) => {
        const result = normalizePath(`/${parts.join('/')}`);
        if ('error' in result) return;
        for (const s of result.segments) {
          expect(s).not.toBe('..');
          expect(s).not.toBe('.');
          expect(s).not.toMatch(/[/\\\0]/);
        }
      }),
    );
  });

  it('is idempotent: re-normalising the joined path gives the same segments', () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (parts) => {
        const first = normalizePath(`/${parts.join('/')}`);
        if ('error' in first) return;
        const again = normalizePath(joinSegments(first.segments));
        expect(again).toEqual(first);
      }),
    );
  });

  it('rejects traversal and relative targets', () => {
    expect(normalizePath('/a/../b')).toHaveProperty('error');
    expect(normalizePath('/a/%2e%2e/b')).toHaveProperty('error');
    expect(normalizePath('a/b')).toHaveProperty('error');
    expect(normalizePath('/a/./b//c/')).toEqual({ segments: ['a', 'b', 'c'] });
  });
});

describe('trace context', () => {
  it('keeps the trace id and flags of a valid parent with a new span id (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9a-f]{32}$/),
        fc.stringMatching(/^[0-9a-f]{16}$/),
        fc.constantFrom('00', '01'),
        (trace, span, flags) => {
          fc.pre(!/^0+$/.test(trace) && !/^0+$/.test(span));
          const child = childTraceparent(`00-${trace}-${span}-${flags}`);
          expect(child).toMatch(new RegExp(`^00-${trace}-[0-9a-f]{16}-${flags}$`));
          expect(child.slice(36, 52)).not.toBe(span);
        },
      ),
    );
  });

  it('starts a new trace for missing or malformed parents, and span ids do not repeat', () => {
    const seen = new Set<string>();
    for (const bad of [undefined, '', 'garbage', `00-${'0'.repeat(32)}-b7ad6b7169203331-01`, '01-x-y-z']) {
      const t = childTraceparent(bad);
      expect(t).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      seen.add(t.slice(36, 52));
    }
    expect(seen.size).toBe(5);
    expect(requestIdFrom('abc-1')).toBe('abc-1');
    expect(requestIdFrom('bad id with spaces')).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom('x'.repeat(300))).toMatch(/^[0-9a-f-]{36}$/);
  });
});
