import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Heap } from '../src/internal/heap.js';

describe('Heap (priority order of the memory provider)', () => {
  it('pops in (priority desc, seq asc) order for any input', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 200 }), (priorities) => {
        const heap = new Heap<{ p: number; seq: number }>((a, b) =>
          a.p !== b.p ? a.p > b.p : a.seq < b.seq,
        );
        for (const [seq, p] of priorities.entries()) heap.push({ p, seq });
        const out: { p: number; seq: number }[] = [];
        while (heap.size > 0) out.push(heap.pop()!);
        const expected = priorities.map((p, seq) => ({ p, seq })).sort((a, b) => b.p - a.p || a.seq - b.seq);
        expect(out).toEqual(expected);
      }),
    );
  });

  it('removeWhere keeps the heap ordered', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 100 }), fc.integer(), (values, pivot) => {
        const heap = new Heap<number>((a, b) => a < b);
        for (const v of values) heap.push(v);
        const removed = heap.removeWhere((v) => v < pivot);
        expect(removed).toBe(values.filter((v) => v < pivot).length);
        const out: number[] = [];
        while (heap.size > 0) out.push(heap.pop()!);
        expect(out).toEqual(values.filter((v) => v >= pivot).sort((a, b) => a - b));
      }),
    );
  });
});
