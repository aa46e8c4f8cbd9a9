import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrequencySketch } from '../src/internal/frequency-sketch.js';
import { hashKey } from '../src/internal/hash.js';

describe('FrequencySketch (count-min with aging)', () => {
  it('never underestimates a count below its 15 cap before aging (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 400 }), (ids) => {
        const sketch = new FrequencySketch(1_000); // sample size 10 000: no aging here
        const counts = new Map<number, number>();
        for (const id of ids) {
          sketch.increment(hashKey(`k${id}`));
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        for (const [id, count] of counts) {
          expect(sketch.frequency(hashKey(`k${id}`))).toBeGreaterThanOrEqual(Math.min(count, 15));
        }
      }),
    );
  });

  it('halves every counter after sampleSize increments, so old popularity fades', () => {
    const sketch = new FrequencySketch(16); // sample size 160
    const hot = hashKey('hot');
    for (let i = 0; i < 12; i++) sketch.increment(hot);
    expect(sketch.frequency(hot)).toBe(12);
    for (let i = 0; i < 148; i++) sketch.increment(hashKey(`other${i}`));
    expect(sketch.frequency(hot)).toBeLessThanOrEqual(7);
  });

  it('spreads keys over the table (hash quality)', () => {
    const buckets = new Uint32Array(64);
    for (let i = 0; i < 64_000; i++) buckets[hashKey(`user:${i}`) & 63]!++;
    for (const count of buckets) expect(count).toBeGreaterThan(800);
  });
});
