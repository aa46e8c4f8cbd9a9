/**
 * The one node type every eviction policy links: a single shape keeps the hot paths monomorphic.
 * Policies use only the fields they need (`hash`/`segment` for adaptive, `list` for LFU and TTL).
 */
export class CacheNode<V> {
  prev: CacheNode<V> | null = null;
  next: CacheNode<V> | null = null;
  /** The list the node is linked into (LFU frequency bucket, timer-wheel bucket, SLRU segment). */
  list: NodeList<V> | null = null;
  /** Cached key hash for the frequency sketch (adaptive only). */
  hash = 0;
  /** Adaptive: 0 window, 1 probation, 2 protected. */
  segment = 0;

  constructor(
    public key: string,
    public value: V,
    /** Epoch ms after which the entry is gone; 0 = never. */
    public expiresAt: number,
  ) {}
}

/** An intrusive doubly-linked list: O(1) push, remove and move, no allocation per operation. */
export class NodeList<V> {
  head: CacheNode<V> | null = null;
  tail: CacheNode<V> | null = null;
  size = 0;

  push(node: CacheNode<V>): void {
    node.list = this;
    node.next = null;
    node.prev = this.tail;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.size++;
  }

  remove(node: CacheNode<V>): void {
    const { prev, next } = node;
    if (prev) prev.next = next;
    else this.head = next;
    if (next) next.prev = prev;
    else this.tail = prev;
    node.prev = node.next = null;
    node.list = null;
    this.size--;
  }

  /** Moves a node already in this list to the tail (most recent end). */
  moveToTail(node: CacheNode<V>): void {
    if (this.tail === node) return;
    const { prev, next } = node;
    if (prev) prev.next = next;
    else this.head = next;
    next!.prev = prev;
    node.prev = this.tail;
    node.next = null;
    this.tail!.next = node;
    this.tail = node;
  }

  shift(): CacheNode<V> | undefined {
    const node = this.head;
    if (!node) return undefined;
    this.remove(node);
    return node;
  }

  clear(): void {
    this.head = this.tail = null;
    this.size = 0;
  }
}
