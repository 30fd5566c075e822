// What every outbox does the same way, whatever keeps its records: the append listeners, the
// closed state and ackThrough(). The SQLite outbox and the memory outbox differ only in storage.
import { FieldgateError } from '../errors.js';
import type { AppendResult, Outbox, OutboxRecord, OutboxRecordInput, OutboxStats } from './outbox.js';

export abstract class OutboxBase implements Outbox {
  abstract readonly epoch: string;
  private readonly listeners = new Set<() => void>();
  protected closed = false;

  abstract append(records: readonly OutboxRecordInput[]): AppendResult;
  abstract read(afterSeq: number, limit: number): OutboxRecord[];
  abstract ack(ranges: ReadonlyArray<readonly [number, number]>): void;
  abstract ackedThrough(): number;
  abstract expire(): number;
  abstract stats(): OutboxStats;

  ackThrough(seq: number): void {
    this.ack([[0, seq]]);
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
  }

  /** Wakes the listeners (the drain) once an append stored at least one record. */
  protected appended(result: AppendResult): AppendResult {
    if (result.seqs.some((q) => q !== null)) for (const l of this.listeners) l();
    return result;
  }

  protected assertOpen(): void {
    if (this.closed) throw new FieldgateError('FG_ERR_STORE_CLOSED', 'the outbox is closed');
  }
}
